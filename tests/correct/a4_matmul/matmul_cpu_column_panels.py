# differs: matmul_cpu gives each prange iteration a panel of 64 columns of C (all rows) instead of a
# band of rows: threads own columns, and each still streams along rows of B inside its panel.

PANEL = 64


@njit(parallel=True)
def matmul_cpu(A, B):
    n, k = A.shape
    m = B.shape[1]
    C = np.zeros((n, m), dtype=np.float64)
    for b in prange((m + PANEL - 1) // PANEL):
        j0 = b * PANEL
        j1 = min(j0 + PANEL, m)
        for i in range(n):
            for p in range(k):
                a = A[i, p]
                for j in range(j0, j1):
                    C[i, j] += a * B[p, j]
    return C
