# Wrong: instead of a sentinel, each stage decides the stream has ended when its input queue has
# stayed empty for 0.1 s. Fast stages never notice; a stage that takes 0.2 s on one chunk ends the
# stages after it early, and the chunks still on their way are lost.
# breaks: pipeline.cpu.correctness

_QUIET_S = 0.1


def pipeline_cpu(chunks, load=load_chunk, transform=transform_chunk, reduce=reduce_chunk, maxsize=4):
    loaded = queue.Queue(maxsize)
    transformed = queue.Queue(maxsize)
    errors = []

    def source():
        try:
            for chunk in chunks:
                loaded.put(load(chunk))
        except BaseException as exc:
            errors.append(exc)

    def middle():
        try:
            while True:
                try:
                    item = loaded.get(timeout=_QUIET_S)
                except queue.Empty:
                    return  # "nothing for a while: the stream is over"
                transformed.put(transform(item))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=source, daemon=True), threading.Thread(target=middle, daemon=True)]
    for t in threads:
        t.start()
    results = []
    while True:
        try:
            item = transformed.get(timeout=_QUIET_S)
        except queue.Empty:
            if not any(t.is_alive() for t in threads):
                break
            continue
        results.append(reduce(item))
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
