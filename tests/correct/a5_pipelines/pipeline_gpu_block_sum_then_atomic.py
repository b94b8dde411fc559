# differs: pipeline_kernel adds a block's values in shared memory first (a tree) and makes one
# cuda.atomic.add per block into total[0], instead of one atomic per reading.
from numba import float64


@cuda.jit
def pipeline_kernel(raw, total):
    cache = cuda.shared.array(THREADS_PER_BLOCK, float64)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    cache[t] = chunk_value(raw[i]) if i < raw.shape[0] else 0.0
    cuda.syncthreads()
    step = THREADS_PER_BLOCK // 2
    while step > 0:
        if t < step:
            cache[t] += cache[t + step]
        cuda.syncthreads()
        step //= 2
    if t == 0:
        cuda.atomic.add(total, 0, cache[0])
