# Wrong: a thread pool, but each worker is handed one contiguous block of tiles up front: a static
# schedule dressed as a dynamic one. Correct counts; on a skewed image one worker does all the work.
# breaks: tiles.cpu.performance


def tiles_cpu(points, max_iter, workers=2):
    height, width = points.shape[1], points.shape[2]
    out = np.empty((height, width), dtype=np.int32)
    n = tile_count(height, width)

    def block(k):
        for t in range(k * n // workers, (k + 1) * n // workers):
            escape_tile(points, max_iter, out, t)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(block, range(workers)):
            pass
    return out
