# differs: counter_kernel adds the block's step counts in an int64 shared-memory tree and makes one
# cuda.atomic.add per block instead of one per value.
from numba import int64


@cuda.jit
def counter_kernel(values, total):
    cache = cuda.shared.array(THREADS_PER_BLOCK, int64)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    steps = 0
    if i < values.shape[0]:
        n = values[i]
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
    cache[t] = steps
    cuda.syncthreads()
    step = THREADS_PER_BLOCK // 2
    while step > 0:
        if t < step:
            cache[t] += cache[t + step]
        cuda.syncthreads()
        step //= 2
    if t == 0:
        cuda.atomic.add(total, 0, cache[0])
