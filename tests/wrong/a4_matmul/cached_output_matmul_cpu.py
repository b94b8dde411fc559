# Wrong: the result array is kept between calls and reused for the next product of the same shape,
# so the second call overwrites the matrix the first call returned.
# breaks: matmul.cpu.correctness

_cpu_buffers = {}


@njit(parallel=True)
def _matmul_into(A, B, C):
    n, k = A.shape
    m = B.shape[1]
    for i in prange(n):
        for j in range(m):
            C[i, j] = 0.0
        for p in range(k):
            a = A[i, p]
            for j in range(m):
                C[i, j] += a * B[p, j]


def matmul_cpu(A, B):
    shape = (A.shape[0], B.shape[1])
    if shape not in _cpu_buffers:  # "allocating is slow: keep one output per shape"
        _cpu_buffers[shape] = np.empty(shape, dtype=np.float64)
    C = _cpu_buffers[shape]
    _matmul_into(A, B, C)
    return C
