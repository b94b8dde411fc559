# Wrong: the loader never waits for room: when the queue is full it drops the chunk and moves on,
# so a slow later stage silently loses chunks (no back-pressure, no error).
# breaks: pipeline.cpu.correctness


def _source_stage(chunks, load, out, stop, errors):
    try:
        for chunk in chunks:
            try:
                out.put_nowait(load(chunk))
            except queue.Full:
                continue  # "the pipeline is busy": the chunk is gone
    except BaseException as exc:
        errors.append(exc)
        stop.set()
    finally:
        _put(out, _DONE, stop)
