# differs: blur_kernel loads its tile the textbook way: every thread its own pixel, then the
# threads on the block's edges (and corners) the halo pixels next to them, instead of a sweep of
# the tile's 324 slots by thread number.


@cuda.jit
def blur_kernel(image, out):
    tile = cuda.shared.array((PATCH, PATCH), float64)
    rows, cols = image.shape
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    i = cuda.blockIdx.y * TILE + ty
    j = cuda.blockIdx.x * TILE + tx
    # Clamped image indices of this thread's pixel and its neighbours (threads past the edge too).
    r, c = min(i, rows - 1), min(j, cols - 1)
    up, down = min(max(i - 1, 0), rows - 1), min(i + 1, rows - 1)
    left, right = min(max(j - 1, 0), cols - 1), min(j + 1, cols - 1)
    tile[ty + 1, tx + 1] = image[r, c]
    if tx == 0:
        tile[ty + 1, 0] = image[r, left]
    if tx == TILE - 1:
        tile[ty + 1, PATCH - 1] = image[r, right]
    if ty == 0:
        tile[0, tx + 1] = image[up, c]
    if ty == TILE - 1:
        tile[PATCH - 1, tx + 1] = image[down, c]
    if tx == 0 and ty == 0:
        tile[0, 0] = image[up, left]
    if tx == TILE - 1 and ty == 0:
        tile[0, PATCH - 1] = image[up, right]
    if tx == 0 and ty == TILE - 1:
        tile[PATCH - 1, 0] = image[down, left]
    if tx == TILE - 1 and ty == TILE - 1:
        tile[PATCH - 1, PATCH - 1] = image[down, right]
    cuda.syncthreads()
    if i < rows and j < cols:
        acc = tile[ty, tx] + 2.0 * tile[ty, tx + 1] + tile[ty, tx + 2]
        acc += 2.0 * tile[ty + 1, tx] + 4.0 * tile[ty + 1, tx + 1] + 2.0 * tile[ty + 1, tx + 2]
        acc += tile[ty + 2, tx] + 2.0 * tile[ty + 2, tx + 1] + tile[ty + 2, tx + 2]
        out[i, j] = acc / 16.0
