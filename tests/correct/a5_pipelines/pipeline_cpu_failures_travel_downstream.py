# differs: pipeline_cpu runs all three stages in threads (the caller only collects results), and a
# failure travels down the queues as an item, like the end-of-stream marker, instead of a shared
# error list; a cancel event set by the caller releases any stage still waiting.


class _Failure:
    def __init__(self, exc):
        self.exc = exc


_END = object()


def pipeline_cpu(chunks, load=load_chunk, transform=transform_chunk, reduce=reduce_chunk, maxsize=4):
    loaded, transformed, reduced = (queue.Queue(maxsize) for _ in range(3))
    cancel = threading.Event()

    def put(q, item):
        while not cancel.is_set():
            try:
                q.put(item, timeout=0.02)
                return True
            except queue.Full:
                pass
        return False

    def get(q):
        while not cancel.is_set():
            try:
                return q.get(timeout=0.02)
            except queue.Empty:
                pass
        return _END

    def source():
        try:
            for chunk in chunks:
                if not put(loaded, load(chunk)):
                    return
            put(loaded, _END)
        except BaseException as exc:
            put(loaded, _Failure(exc))

    def stage(fn, inbox, outbox):
        try:
            while True:
                item = get(inbox)
                if item is _END or isinstance(item, _Failure):
                    put(outbox, item)
                    return
                if not put(outbox, fn(item)):
                    return
        except BaseException as exc:
            put(outbox, _Failure(exc))

    threads = [
        threading.Thread(target=source),
        threading.Thread(target=stage, args=(transform, loaded, transformed)),
        threading.Thread(target=stage, args=(reduce, transformed, reduced)),
    ]
    for t in threads:
        t.start()
    results = []
    try:
        while True:
            item = reduced.get()  # every stage ends by passing on _END or a _Failure
            if item is _END:
                return results
            if isinstance(item, _Failure):
                raise item.exc
            results.append(item)
    finally:
        cancel.set()
        for t in threads:
            t.join()
