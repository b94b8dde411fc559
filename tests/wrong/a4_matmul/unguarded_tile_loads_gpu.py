# Wrong: the tile loads are not guarded, so on shapes that are not multiples of TILE the last tiles
# read past the edge of A and B (garbage on a GPU, an IndexError in the simulator). The final
# write is still guarded.
# breaks: matmul.gpu.correctness


@cuda.jit
def matmul_kernel(A, B, C):
    sA = cuda.shared.array((TILE, TILE), float64)
    sB = cuda.shared.array((TILE, TILE), float64)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    row = cuda.blockIdx.y * TILE + ty
    col = cuda.blockIdx.x * TILE + tx
    n = A.shape[0]
    k = A.shape[1]
    m = B.shape[1]
    acc = 0.0
    for t in range((k + TILE - 1) // TILE):
        p = t * TILE
        sA[ty, tx] = A[row, p + tx]
        sB[ty, tx] = B[p + ty, col]
        cuda.syncthreads()
        for q in range(TILE):
            acc += sA[ty, q] * sB[q, tx]
        cuda.syncthreads()
    if row < n and col < m:
        C[row, col] = acc
