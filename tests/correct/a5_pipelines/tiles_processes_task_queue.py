# differs: tiles_processes hands tiles out through a multiprocessing Queue of tile numbers, ended by
# one None per worker, instead of a shared counter with a lock.


def _queue_tile_worker(in_name, out_name, shape, max_iter, tasks):
    shm_in = shared_memory.SharedMemory(name=in_name)
    shm_out = shared_memory.SharedMemory(name=out_name)
    try:
        points = np.ndarray((2,) + shape, dtype=np.float64, buffer=shm_in.buf)
        out = np.ndarray(shape, dtype=np.int32, buffer=shm_out.buf)
        while True:
            t = tasks.get()
            if t is None:
                break
            escape_tile(points, max_iter, out, t)
        del points, out
    finally:
        shm_in.close()
        shm_out.close()


def tiles_processes(points, max_iter, workers=2):
    shape = (points.shape[1], points.shape[2])
    ctx = multiprocessing.get_context("fork")
    shm_in = shared_memory.SharedMemory(create=True, size=max(1, points.nbytes))
    shm_out = shared_memory.SharedMemory(create=True, size=max(1, shape[0] * shape[1] * 4))
    tasks = ctx.Queue()
    try:
        np.ndarray(points.shape, dtype=np.float64, buffer=shm_in.buf)[...] = points
        for t in range(tile_count(*shape)):
            tasks.put(t)
        for _ in range(workers):
            tasks.put(None)  # one "no more tiles" per worker
        procs = [
            ctx.Process(target=_queue_tile_worker, args=(shm_in.name, shm_out.name, shape, max_iter, tasks))
            for _ in range(workers)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        bad = [p.exitcode for p in procs if p.exitcode != 0]
        if bad:
            raise RuntimeError(f"worker process exited with code {bad[0]}")
        return np.ndarray(shape, dtype=np.int32, buffer=shm_out.buf).copy()
    finally:
        tasks.cancel_join_thread()  # after a failure tiles may be left in it: do not wait to flush them
        tasks.close()
        shm_in.close()
        shm_in.unlink()
        shm_out.close()
        shm_out.unlink()
