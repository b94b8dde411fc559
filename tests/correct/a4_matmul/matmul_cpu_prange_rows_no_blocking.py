# differs: matmul_cpu puts prange on single rows of C and keeps the serial i-k-j loop inside, with
# no cache blocking (the handout recommends blocking but does not require it).


@njit(parallel=True)
def matmul_cpu(A, B):
    n, k = A.shape
    m = B.shape[1]
    C = np.zeros((n, m), dtype=np.float64)
    for i in prange(n):
        for p in range(k):
            a = A[i, p]
            for j in range(m):
                C[i, j] += a * B[p, j]
    return C
