# differs: matmul_cpu splits C into 2-D tiles (64 rows x 256 columns, one flattened prange index per
# tile) instead of bands of whole rows; each tile accumulates its products in a private buffer.

TI = 64
TJ = 256


@njit(parallel=True)
def matmul_cpu(A, B):
    n, k = A.shape
    m = B.shape[1]
    C = np.empty((n, m), dtype=np.float64)
    down = (n + TI - 1) // TI
    across = (m + TJ - 1) // TJ
    for t in prange(down * across):
        i0 = (t // across) * TI
        j0 = (t % across) * TJ
        i1 = min(i0 + TI, n)
        j1 = min(j0 + TJ, m)
        acc = np.zeros((i1 - i0, j1 - j0), dtype=np.float64)
        for i in range(i1 - i0):
            row = acc[i]
            for p in range(k):
                a = A[i0 + i, p]
                panel = B[p, j0:j1]  # a slice: indices from 0, so numba can vectorise the loop
                for j in range(row.shape[0]):
                    row[j] += a * panel[j]
        C[i0:i1, j0:j1] = acc
    return C
