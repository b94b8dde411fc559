# differs: pipeline_cpu runs the load and transform loops as two tasks of a ThreadPoolExecutor and
# gets their exceptions back from future.result() after the pool has shut down, instead of threads
# that record errors in a shared list.


def pipeline_cpu(chunks, load=load_chunk, transform=transform_chunk, reduce=reduce_chunk, maxsize=4):
    loaded, transformed = queue.Queue(maxsize), queue.Queue(maxsize)
    stop = threading.Event()
    end = object()

    def put(q, item):
        while not stop.is_set():
            try:
                q.put(item, timeout=0.02)
                return True
            except queue.Full:
                pass
        return False

    def get(q):
        while not stop.is_set():
            try:
                return q.get(timeout=0.02)
            except queue.Empty:
                pass
        return end

    def source():
        try:
            for chunk in chunks:
                if not put(loaded, load(chunk)):
                    return
        finally:
            put(loaded, end)  # also after a failure: the next stage must not wait forever

    def middle():
        try:
            while (item := get(loaded)) is not end:
                if not put(transformed, transform(item)):
                    return
        finally:
            put(transformed, end)

    results = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(source), pool.submit(middle)]
        try:
            while (item := get(transformed)) is not end:
                results.append(reduce(item))
        finally:
            stop.set()  # whatever happened, nobody waits any more; the pool joins both tasks
    for f in futures:
        f.result()  # a stage's exception, raised here in the caller
    return results
