# differs: tiles_cpu fills a queue.SimpleQueue with every tile number and submits `workers`
# long-running tasks to a ThreadPoolExecutor, each draining the queue until it is empty, instead
# of one pool task per tile.
from concurrent.futures import wait


def tiles_cpu(points, max_iter, workers=2):
    height, width = points.shape[1], points.shape[2]
    out = np.empty((height, width), dtype=np.int32)
    todo = queue.SimpleQueue()
    for t in range(tile_count(height, width)):
        todo.put(t)

    def drain():
        while True:
            try:
                t = todo.get_nowait()
            except queue.Empty:
                return
            escape_tile(points, max_iter, out, t)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        done, _ = wait([pool.submit(drain) for _ in range(workers)])
    for f in done:
        f.result()  # re-raises a worker's exception
    return out
