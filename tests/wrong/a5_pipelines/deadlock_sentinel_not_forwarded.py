# Wrong: the transform stage stops at the end-of-stream sentinel without passing it on, so the
# reduce loop waits for it forever (a deadlock: every thread is waiting, none can move).
# breaks: pipeline.cpu.correctness


def _middle_stage(inbox, transform, out, stop, errors):
    try:
        while True:
            item = _get(inbox, stop)
            if item is _DONE:
                return  # the sentinel ends this stage, and nobody tells the next one
            if not _put(out, transform(item), stop):
                return
    except BaseException as exc:
        errors.append(exc)
        stop.set()
