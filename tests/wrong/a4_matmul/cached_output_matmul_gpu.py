# Wrong: the device array for C is allocated once per shape and reused by later calls, so the
# second product overwrites the device array the first call returned.
# breaks: matmul.gpu.correctness

_gpu_buffers = {}


def matmul_gpu(A, B):
    n = A.shape[0]
    m = B.shape[1]
    if (n, m) not in _gpu_buffers:  # "device allocations are expensive"
        _gpu_buffers[(n, m)] = cuda.device_array((n, m), dtype=np.float64)
    C = _gpu_buffers[(n, m)]
    grid = ((m + TILE - 1) // TILE, (n + TILE - 1) // TILE)
    matmul_kernel[grid, (TILE, TILE)](A, B, C)
    return C
