# differs: counter_kernel uses a fixed grid with a grid-stride loop, each thread summing its values
# locally, then a warp-shuffle reduction (cuda.shfl_down_sync) and one cuda.atomic.add per warp.

WARP = 32


@cuda.jit
def counter_kernel(values, total):
    mine = 0
    for i in range(cuda.grid(1), values.shape[0], cuda.gridsize(1)):
        n = values[i]
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            mine += 1
    offset = WARP // 2
    while offset > 0:
        mine += cuda.shfl_down_sync(0xFFFFFFFF, mine, offset)
        offset //= 2
    if cuda.threadIdx.x % WARP == 0:
        cuda.atomic.add(total, 0, mine)


def counter_gpu(values):
    total = cuda.to_device(np.zeros(1, dtype=np.int64))
    blocks = max(1, min(64, (values.shape[0] + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK))
    counter_kernel[blocks, THREADS_PER_BLOCK](values, total)
    return int(total.copy_to_host()[0])
