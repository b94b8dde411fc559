# Wrong: the worker processes share a tile counter but take a tile in two steps without holding its
# lock: add one, then read it back. Two workers can both add before either reads, and then one tile
# is never computed (the output block keeps whatever was in it).
# breaks: tiles.cpu.correctness


def _tile_worker(in_name, out_name, shape, max_iter, counter, n):
    shm_in = shared_memory.SharedMemory(name=in_name)
    shm_out = shared_memory.SharedMemory(name=out_name)
    try:
        points = np.ndarray((2,) + shape, dtype=np.float64, buffer=shm_in.buf)
        out = np.ndarray(shape, dtype=np.int32, buffer=shm_out.buf)
        while True:
            counter.value += 1  # each access takes the Value's lock, but not the two together
            t = counter.value - 1
            if t >= n:
                break
            escape_tile(points, max_iter, out, t)
        del points, out
    finally:
        shm_in.close()
        shm_out.close()
