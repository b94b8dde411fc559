# Wrong: the block-sum add is missing. Each block is scanned on its own and the block totals are
# never scanned and added back, so every block after the first starts again from 0.
# breaks: scan.gpu.correctness


def scan_gpu(x, inclusive):
    n = x.shape[0]
    dtype = np.float64 if x.dtype.kind == "f" else np.int64
    out = cuda.device_array(n, dtype=dtype)
    if n == 0:
        return out
    blocks = (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    block_sums = cuda.device_array(blocks, dtype=dtype)
    scan_block_kernel[blocks, THREADS_PER_BLOCK](x, out, block_sums, inclusive)
    return out
