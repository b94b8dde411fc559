# Wrong: no barrier between loading the tile and computing from it: a thread reads neighbours
# that other threads of its block have not stored in shared memory yet.
# breaks: blur.gpu.correctness


@cuda.jit
def blur_kernel(image, out):
    tile = cuda.shared.array((PATCH, PATCH), float64)
    rows, cols = image.shape
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    top = cuda.blockIdx.y * TILE - HALO
    left = cuda.blockIdx.x * TILE - HALO
    for k in range(ty * TILE + tx, PATCH * PATCH, TILE * TILE):
        r = min(max(top + k // PATCH, 0), rows - 1)
        c = min(max(left + k % PATCH, 0), cols - 1)
        tile[k // PATCH, k % PATCH] = image[r, c]
    i, j = top + HALO + ty, left + HALO + tx
    if i < rows and j < cols:
        acc = 0.0
        for di in range(3):
            for dj in range(3):
                acc += (2 - abs(di - 1)) * (2 - abs(dj - 1)) * tile[ty + di, tx + dj]
        out[i, j] = acc / 16.0
