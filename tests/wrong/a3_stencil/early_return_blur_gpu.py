# Wrong: threads whose pixel lies outside the image return before the loading loop, so in every
# block at the right or bottom edge of the image the tile slots they were to fill stay empty (and
# on a GPU they never reach the barrier the rest of the block waits at).
# breaks: blur.gpu.correctness


@cuda.jit
def blur_kernel(image, out):
    tile = cuda.shared.array((PATCH, PATCH), float64)
    rows, cols = image.shape
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    top = cuda.blockIdx.y * TILE - HALO
    left = cuda.blockIdx.x * TILE - HALO
    i, j = top + HALO + ty, left + HALO + tx
    if i >= rows or j >= cols:
        return
    for k in range(ty * TILE + tx, PATCH * PATCH, TILE * TILE):
        r = min(max(top + k // PATCH, 0), rows - 1)
        c = min(max(left + k % PATCH, 0), cols - 1)
        tile[k // PATCH, k % PATCH] = image[r, c]
    cuda.syncthreads()
    acc = 0.0
    for di in range(3):
        for dj in range(3):
            acc += (2 - abs(di - 1)) * (2 - abs(dj - 1)) * tile[ty + di, tx + dj]
    out[i, j] = acc / 16.0
