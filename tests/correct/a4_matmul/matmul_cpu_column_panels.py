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
            row = C[i, j0:j1]
            for p in range(k):
                a = A[i, p]
                panel = B[p, j0:j1]  # slices: indices from 0, so numba can vectorise the loop
                for j in range(row.shape[0]):
                    row[j] += a * panel[j]
    return C
