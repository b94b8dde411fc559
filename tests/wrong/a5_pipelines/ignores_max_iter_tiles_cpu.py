# Wrong: the thread pool computes every tile with max_iter = 200 (the value in the handout's
# examples), whatever max_iter the caller passed.
# breaks: tiles.cpu.correctness

MAX_ITER = 200


def tiles_cpu(points, max_iter, workers=2):
    height, width = points.shape[1], points.shape[2]
    out = np.empty((height, width), dtype=np.int32)

    def one(t):
        escape_tile(points, MAX_ITER, out, t)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(one, range(tile_count(height, width))):
            pass
    return out
