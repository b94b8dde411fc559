# differs: dot_gpu adds the per-block partial sums on the device, not the host: a second kernel
# (the same shared-memory tree over an array) is launched on the partials until one value is left.


@cuda.jit
def sum_kernel(x, out):
    cache = cuda.shared.array(THREADS_PER_BLOCK, float64)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    cache[t] = x[i] if i < x.shape[0] else 0.0
    cuda.syncthreads()
    step = THREADS_PER_BLOCK // 2
    while step > 0:
        if t < step:
            cache[t] += cache[t + step]
        cuda.syncthreads()
        step //= 2
    if t == 0:
        out[cuda.blockIdx.x] = cache[0]


def dot_gpu(a, b):
    blocks = max(1, (a.shape[0] + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)
    partial = cuda.device_array(blocks, dtype=np.float64)
    dot_kernel[blocks, THREADS_PER_BLOCK](a, b, partial)
    while partial.shape[0] > 1:
        blocks = (partial.shape[0] + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
        fewer = cuda.device_array(blocks, dtype=np.float64)
        sum_kernel[blocks, THREADS_PER_BLOCK](partial, fewer)
        partial = fewer
    return float(partial.copy_to_host()[0])
