# differs: dot_gpu has every block add its tree's result into one global total with
# cuda.atomic.add (a 1-element `partial`) instead of one slot per block summed on the host.


@cuda.jit
def dot_kernel(a, b, partial):
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
        cuda.atomic.add(partial, 0, cache[0])


def dot_gpu(a, b):
    blocks = max(1, (a.shape[0] + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)
    total = cuda.to_device(np.zeros(1, dtype=np.float64))
    dot_kernel[blocks, THREADS_PER_BLOCK](a, b, total)
    return float(total.copy_to_host()[0])
