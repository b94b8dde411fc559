# Wrong: every block adds its partial sum into one global total with a plain +=: on a GPU blocks
# overlap and sums are lost (one concurrent run gave 1280.0 for 2000.0).
# breaks: dot.gpu.correctness


@cuda.jit
def dot_kernel(a, b, total):
    cache = cuda.shared.array(THREADS_PER_BLOCK, float64)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    cache[t] = a[i] * b[i] if i < a.shape[0] else 0.0
    cuda.syncthreads()
    step = THREADS_PER_BLOCK // 2
    while step > 0:
        if t < step:
            cache[t] += cache[t + step]
        cuda.syncthreads()
        step //= 2
    if t == 0:
        total[0] += cache[0]


def dot_gpu(a, b):
    blocks = max(1, (a.shape[0] + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)
    total = cuda.to_device(np.zeros(1, dtype=np.float64))
    dot_kernel[blocks, THREADS_PER_BLOCK](a, b, total)
    return float(total.copy_to_host()[0])
