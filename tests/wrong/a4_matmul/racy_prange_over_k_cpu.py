# Wrong: prange over k instead of over rows: threads handling different p add into the same C[i, j]
# at the same time, and increments are lost when two of them collide.
# breaks: matmul.cpu.correctness


@njit(parallel=True)
def matmul_cpu(A, B):
    n, k = A.shape
    m = B.shape[1]
    C = np.zeros((n, m), dtype=np.float64)
    for i in range(n):
        for p in prange(k):
            a = A[i, p]
            for j in range(m):
                C[i, j] += a * B[p, j]
    return C
