# differs: matmul_kernel stores the B tile transposed in shared memory (sBt[tx, ty] = B[p + ty, col])
# and reads it as sBt[tx, q]; matmul_gpu computes the grid with math.ceil.
import math


@cuda.jit
def matmul_kernel(A, B, C):
    sA = cuda.shared.array((TILE, TILE), float64)
    sBt = cuda.shared.array((TILE, TILE), float64)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    row = cuda.blockIdx.y * cuda.blockDim.y + ty
    col = cuda.blockIdx.x * cuda.blockDim.x + tx
    n = A.shape[0]
    k = A.shape[1]
    m = B.shape[1]
    acc = 0.0
    steps = (k + TILE - 1) // TILE
    t = 0
    while t < steps:
        p = t * TILE
        a = 0.0
        if row < n and p + tx < k:
            a = A[row, p + tx]
        sA[ty, tx] = a
        b = 0.0
        if p + ty < k and col < m:
            b = B[p + ty, col]
        sBt[tx, ty] = b
        cuda.syncthreads()
        for q in range(TILE):
            acc += sA[ty, q] * sBt[tx, q]
        cuda.syncthreads()
        t += 1
    if row < n and col < m:
        C[row, col] = acc


def matmul_gpu(A, B):
    n, m = A.shape[0], B.shape[1]
    C = cuda.device_array((n, m), dtype=np.float64)
    matmul_kernel[(math.ceil(m / TILE), math.ceil(n / TILE)), (TILE, TILE)](A, B, C)
    return C
