# differs: compact_gpu scans the flags exclusively and learns the count from the last position
# plus the last flag (two one-element copies to the host); its scatter kernel writes to
# positions[i] directly.


@cuda.jit
def scatter_at_exclusive_kernel(x, threshold, positions, out):
    i = cuda.grid(1)
    if i < x.shape[0]:
        if x[i] > threshold:
            out[positions[i]] = x[i]


def compact_gpu(x, threshold):
    n = x.shape[0]
    if n == 0:
        return cuda.device_array(0, dtype=x.dtype)
    grid = (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    marks = cuda.device_array(n, dtype=np.int64)
    flag_kernel[grid, THREADS_PER_BLOCK](x, threshold, marks)
    where = scan_gpu(marks, False)
    count = int(where[n - 1 :].copy_to_host()[0]) + int(marks[n - 1 :].copy_to_host()[0])
    kept = cuda.device_array(count, dtype=x.dtype)
    if count:
        scatter_at_exclusive_kernel[grid, THREADS_PER_BLOCK](x, threshold, where, kept)
    return kept
