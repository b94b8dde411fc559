# Wrong: one row accumulator allocated before the prange and reused by every iteration. Threads
# working on different rows of C at the same time add into the same buffer: their rows mix.
# breaks: matmul.cpu.correctness


@njit(parallel=True)
def matmul_cpu(A, B):
    n, k = A.shape
    m = B.shape[1]
    C = np.empty((n, m), dtype=np.float64)
    row = np.zeros(m)  # "allocate once, not n times"
    for i in prange(n):
        row[:] = 0.0
        for p in range(k):
            a = A[i, p]
            for j in range(m):
                row[j] += a * B[p, j]
        for j in range(m):
            C[i, j] = row[j]
    return C
