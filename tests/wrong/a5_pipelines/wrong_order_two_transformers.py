# Wrong: two transform threads to go faster, results kept in the order they arrive: whichever
# thread finishes first goes first, so the results come back out of order.
# breaks: pipeline.cpu.correctness


def pipeline_cpu(chunks, load=load_chunk, transform=transform_chunk, reduce=reduce_chunk, maxsize=4):
    loaded = queue.Queue(maxsize)
    transformed = queue.Queue(maxsize)
    stop = threading.Event()
    errors = []

    def transformer():
        _middle_stage(loaded, transform, transformed, stop, errors)
        _put(loaded, _DONE, stop)  # let the other transformer see the end too

    threads = [threading.Thread(target=_source_stage, args=(chunks, load, loaded, stop, errors), daemon=True)]
    threads += [threading.Thread(target=transformer, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    results, ended = [], 0
    try:
        while ended < 2:
            item = _get(transformed, stop)
            if item is _DONE:
                ended += 1
                continue
            results.append(reduce(item))
    except BaseException:
        stop.set()
        raise
    finally:
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    return results
