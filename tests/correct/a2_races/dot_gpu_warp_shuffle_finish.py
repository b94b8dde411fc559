# differs: dot_kernel runs the shared-memory tree only down to 32 values, then the first warp
# finishes with warp shuffles (cuda.shfl_down_sync) instead of five more shared-memory steps.

WARP = 32


@cuda.jit
def dot_kernel(a, b, partial):
    cache = cuda.shared.array(THREADS_PER_BLOCK, float64)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    cache[t] = a[i] * b[i] if i < a.shape[0] else 0.0
    cuda.syncthreads()
    step = THREADS_PER_BLOCK // 2
    while step >= WARP:
        if t < step:
            cache[t] += cache[t + step]
        cuda.syncthreads()
        step //= 2
    if t < WARP:
        v = cache[t]
        offset = WARP // 2
        while offset > 0:
            v += cuda.shfl_down_sync(0xFFFFFFFF, v, offset)
            offset //= 2
        if t == 0:
            partial[cuda.blockIdx.x] = v
