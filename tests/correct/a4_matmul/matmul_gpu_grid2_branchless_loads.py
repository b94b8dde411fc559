# differs: matmul_kernel takes its element from cuda.grid(2), walks k with range(0, k, TILE) and
# writes its guarded tile loads as conditional expressions instead of if/else blocks.


@cuda.jit
def matmul_kernel(A, B, C):
    sA = cuda.shared.array((TILE, TILE), float64)
    sB = cuda.shared.array((TILE, TILE), float64)
    col, row = cuda.grid(2)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    n, k = A.shape
    m = B.shape[1]
    acc = 0.0
    for p in range(0, k, TILE):
        sA[ty, tx] = A[row, p + tx] if row < n and p + tx < k else 0.0
        sB[ty, tx] = B[p + ty, col] if p + ty < k and col < m else 0.0
        cuda.syncthreads()
        for q in range(TILE):
            acc += sA[ty, q] * sB[q, tx]
        cuda.syncthreads()
    if row < n and col < m:
        C[row, col] = acc
