# Wrong: the block indices are swapped in the kernel (row from blockIdx.x, column from blockIdx.y)
# while the grid is laid out as (column blocks, row blocks). On square shapes every tile of C is
# still computed once, just by another block; on rectangular ones some rows are never written.
# breaks: matmul.gpu.correctness


@cuda.jit
def matmul_kernel(A, B, C):
    sA = cuda.shared.array((TILE, TILE), float64)
    sB = cuda.shared.array((TILE, TILE), float64)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    row = cuda.blockIdx.x * TILE + ty
    col = cuda.blockIdx.y * TILE + tx
    n = A.shape[0]
    k = A.shape[1]
    m = B.shape[1]
    acc = 0.0
    for t in range((k + TILE - 1) // TILE):
        p = t * TILE
        if row < n and p + tx < k:
            sA[ty, tx] = A[row, p + tx]
        else:
            sA[ty, tx] = 0.0
        if p + ty < k and col < m:
            sB[ty, tx] = B[p + ty, col]
        else:
            sB[ty, tx] = 0.0
        cuda.syncthreads()
        for q in range(TILE):
            acc += sA[ty, q] * sB[q, tx]
        cuda.syncthreads()
    if row < n and col < m:
        C[row, col] = acc
