# differs: blur_kernel is separable in shared memory: after the tile, a second shared array of
# vertical 1-2-1 sums (TILE x PATCH), a second barrier, then the horizontal 1-2-1 pass; the tile is
# loaded with a 2-D strided loop (rows ty, ty+16; columns tx, tx+16) instead of numbered slots.


@cuda.jit
def blur_kernel(image, out):
    tile = cuda.shared.array((PATCH, PATCH), float64)
    vsum = cuda.shared.array((TILE, PATCH), float64)
    rows, cols = image.shape
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    top = cuda.blockIdx.y * TILE - HALO
    left = cuda.blockIdx.x * TILE - HALO
    for a in range(ty, PATCH, TILE):
        r = min(max(top + a, 0), rows - 1)
        for b in range(tx, PATCH, TILE):
            tile[a, b] = image[r, min(max(left + b, 0), cols - 1)]
    cuda.syncthreads()
    for b in range(tx, PATCH, TILE):
        vsum[ty, b] = tile[ty, b] + 2.0 * tile[ty + 1, b] + tile[ty + 2, b]
    cuda.syncthreads()
    i, j = top + HALO + ty, left + HALO + tx
    if i < rows and j < cols:
        out[i, j] = (vsum[ty, tx] + 2.0 * vsum[ty, tx + 1] + vsum[ty, tx + 2]) / 16.0
