# Wrong: the transform stage catches every exception and skips the chunk, so a failure never
# reaches the caller: the pipeline returns fewer results as if nothing had happened.
# breaks: pipeline.cpu.correctness


def _middle_stage(inbox, transform, out, stop, errors):
    while True:
        item = _get(inbox, stop)
        if item is _DONE:
            break
        try:
            _put(out, transform(item), stop)
        except Exception:
            continue  # "keep the pipeline running"
    _put(out, _DONE, stop)
