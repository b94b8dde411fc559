# Wrong: no barrier between the up-sweep and the down-sweep. The last thread records the block's
# total and clears the root, and thread 0 reads the root in the first down-sweep step without a
# cuda.syncthreads() between them: it may read the total instead of 0.
# breaks: scan.gpu.correctness


@cuda.jit
def scan_block_kernel(x, out, block_sums, inclusive):
    tile = cuda.shared.array(THREADS_PER_BLOCK, out.dtype)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    value = x[i] if i < x.shape[0] else 0
    tile[t] = value
    cuda.syncthreads()
    step = 1
    while step < THREADS_PER_BLOCK:
        k = (t + 1) * 2 * step - 1
        if k < THREADS_PER_BLOCK:
            tile[k] += tile[k - step]
        cuda.syncthreads()
        step *= 2
    if t == THREADS_PER_BLOCK - 1:
        block_sums[cuda.blockIdx.x] = tile[t]
        tile[t] = 0
    step = THREADS_PER_BLOCK // 2
    while step > 0:
        k = (t + 1) * 2 * step - 1
        if k < THREADS_PER_BLOCK:
            left = tile[k - step]
            tile[k - step] = tile[k]
            tile[k] += left
        cuda.syncthreads()
        step //= 2
    if i < x.shape[0]:
        if inclusive:
            out[i] = tile[t] + value
        else:
            out[i] = tile[t]
