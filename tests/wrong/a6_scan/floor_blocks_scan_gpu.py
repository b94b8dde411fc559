# Wrong: the last partial block is dropped. The number of blocks is rounded down (with at least
# one), so the elements after the last full block of THREADS_PER_BLOCK are never scanned.
# breaks: scan.gpu.correctness


def scan_gpu(x, inclusive):
    n = x.shape[0]
    dtype = np.float64 if x.dtype.kind == "f" else np.int64
    out = cuda.device_array(n, dtype=dtype)
    if n == 0:
        return out
    blocks = max(1, n // THREADS_PER_BLOCK)
    block_sums = cuda.device_array(blocks, dtype=dtype)
    scan_block_kernel[blocks, THREADS_PER_BLOCK](x, out, block_sums, inclusive)
    if blocks > 1:
        offsets = scan_gpu(block_sums, False)
        add_offsets_kernel[blocks, THREADS_PER_BLOCK](out, offsets)
    return out
