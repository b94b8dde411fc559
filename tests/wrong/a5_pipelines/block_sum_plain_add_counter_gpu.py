# Wrong: each block sums its steps in shared memory (atomics, correctly), then thread 0 adds the
# block's sum to the global total without an atomic: blocks that overlap on a GPU lose totals.
# breaks: counter.gpu.correctness

from numba import int64


@cuda.jit
def counter_kernel(values, total):
    block_sum = cuda.shared.array(1, int64)
    if cuda.threadIdx.x == 0:
        block_sum[0] = 0
    cuda.syncthreads()
    i = cuda.grid(1)
    if i < values.shape[0]:
        n = values[i]
        steps = 0
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
        cuda.atomic.add(block_sum, 0, steps)
    cuda.syncthreads()
    if cuda.threadIdx.x == 0:
        total[0] = total[0] + block_sum[0]
