# differs: dot_kernel's tree uses interleaved addressing (stride 1, 2, 4, ...: thread t with
# t % (2*stride) == 0 adds cache[t + stride]) instead of sequential addressing (step 64, 32, ...).


@cuda.jit
def dot_kernel(a, b, partial):
    cache = cuda.shared.array(THREADS_PER_BLOCK, float64)
    t = cuda.threadIdx.x
    i = cuda.blockIdx.x * cuda.blockDim.x + t
    if i < a.shape[0]:
        cache[t] = a[i] * b[i]
    else:
        cache[t] = 0.0
    cuda.syncthreads()
    stride = 1
    while stride < THREADS_PER_BLOCK:
        if t % (2 * stride) == 0:
            cache[t] += cache[t + stride]
        cuda.syncthreads()
        stride *= 2
    if t == 0:
        partial[cuda.blockIdx.x] = cache[0]
