# Wrong: the transform stage works in batches of four and flushes what is left at the end, but never
# empties the batch after sending it: the first four chunks come out again (duplicated chunks).
# breaks: pipeline.cpu.correctness


def _middle_stage(inbox, transform, out, stop, errors):
    batch = []
    try:
        while True:
            item = _get(inbox, stop)
            if item is _DONE:
                break
            batch.append(item)
            if len(batch) == 4:
                for x in batch:
                    _put(out, transform(x), stop)
        if len(batch) != 4:
            for x in batch:  # flush the last, partial batch: it still holds the first four
                _put(out, transform(x), stop)
    except BaseException as exc:
        errors.append(exc)
        stop.set()
    finally:
        _put(out, _DONE, stop)
