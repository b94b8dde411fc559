# Wrong: C allocated as float32, so every element is rounded to single precision (and the dtype is wrong).
# breaks: matmul.cpu.correctness


@njit(parallel=True)
def matmul_cpu(A, B):
    n, k = A.shape
    m = B.shape[1]
    C = np.zeros((n, m), dtype=np.float32)
    for i in prange(n):
        for p in range(k):
            a = A[i, p]
            for j in range(m):
                C[i, j] += a * B[p, j]
    return C
