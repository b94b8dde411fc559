# Wrong: the loader sends the end-of-stream sentinel right after the last chunk, from inside its
# loop; an empty stream has no last chunk, so no sentinel is ever sent and the pipeline never ends.
# breaks: pipeline.cpu.correctness


def _source_stage(chunks, load, out, stop, errors):
    try:
        chunks = list(chunks)
        for i, chunk in enumerate(chunks):
            if not _put(out, load(chunk), stop):
                return
            if i == len(chunks) - 1:
                _put(out, _DONE, stop)  # the end marker follows the last chunk
    except BaseException as exc:
        errors.append(exc)
        stop.set()
        _put(out, _DONE, stop)
