# differs: tiles_cpu starts its own threading.Thread workers (the caller works too) that take the
# next tile number from a shared counter under a lock, instead of a ThreadPoolExecutor's map.


def tiles_cpu(points, max_iter, workers=2):
    height, width = points.shape[1], points.shape[2]
    out = np.empty((height, width), dtype=np.int32)
    n = tile_count(height, width)
    lock = threading.Lock()
    state = {"next": 0}
    errors = []

    def work():
        try:
            while not errors:
                with lock:
                    t = state["next"]
                    state["next"] += 1
                if t >= n:
                    return
                escape_tile(points, max_iter, out, t)
        except BaseException as exc:  # handed to the caller
            errors.append(exc)

    helpers = [threading.Thread(target=work) for _ in range(workers - 1)]
    for h in helpers:
        h.start()
    try:
        work()
    finally:
        for h in helpers:
            h.join()
    if errors:
        raise errors[0]
    return out
