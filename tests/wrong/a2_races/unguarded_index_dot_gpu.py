# Wrong: threads past the end of the input read a[i] anyway (sizes that are not a multiple of the block).
# breaks: dot.gpu.correctness


@cuda.jit
def dot_kernel(a, b, partial):
    cache = cuda.shared.array(THREADS_PER_BLOCK, float64)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    cache[t] = a[i] * b[i]
    cuda.syncthreads()
    step = THREADS_PER_BLOCK // 2
    while step > 0:
        if t < step:
            cache[t] += cache[t + step]
        cuda.syncthreads()
        step //= 2
    if t == 0:
        partial[cuda.blockIdx.x] = cache[0]
