# differs: scan_block_kernel uses the Hillis-Steele scan (every thread adds the element `step`
# places to its left, step = 1, 2, 4, ...), which does more additions than the work-efficient
# sweeps, with two shared buffers swapped each step so no thread reads a slot being written.


@cuda.jit
def scan_block_kernel(x, out, block_sums, inclusive):
    ping = cuda.shared.array(THREADS_PER_BLOCK, out.dtype)
    pong = cuda.shared.array(THREADS_PER_BLOCK, out.dtype)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    mine = x[i] if i < x.shape[0] else 0
    ping[t] = mine
    cuda.syncthreads()
    step = 1
    flip = False
    while step < THREADS_PER_BLOCK:
        if not flip:
            pong[t] = ping[t] + ping[t - step] if t >= step else ping[t]
        else:
            ping[t] = pong[t] + pong[t - step] if t >= step else pong[t]
        cuda.syncthreads()
        flip = not flip
        step *= 2
    total = pong[t] if flip else ping[t]  # this thread's inclusive prefix within the block
    if t == THREADS_PER_BLOCK - 1:
        block_sums[cuda.blockIdx.x] = total
    if i < x.shape[0]:
        out[i] = total if inclusive else total - mine
