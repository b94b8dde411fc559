# Wrong: x and y swapped in the kernel: it takes the block's rows from blockIdx.x and threadIdx.x
# while blur_gpu launches x over the columns. On a square image the blocks still cover every
# pixel (only the memory access pattern suffers); on a tall or wide image whose row and column
# tile counts differ, part of the output is never written.
# breaks: blur.gpu.correctness


@cuda.jit
def blur_kernel(image, out):
    tile = cuda.shared.array((PATCH, PATCH), float64)
    rows, cols = image.shape
    tx, ty = cuda.threadIdx.y, cuda.threadIdx.x
    top = cuda.blockIdx.x * TILE - HALO
    left = cuda.blockIdx.y * TILE - HALO
    for k in range(ty * TILE + tx, PATCH * PATCH, TILE * TILE):
        r = min(max(top + k // PATCH, 0), rows - 1)
        c = min(max(left + k % PATCH, 0), cols - 1)
        tile[k // PATCH, k % PATCH] = image[r, c]
    cuda.syncthreads()
    i, j = top + HALO + ty, left + HALO + tx
    if i < rows and j < cols:
        acc = 0.0
        for di in range(3):
            for dj in range(3):
                acc += (2 - abs(di - 1)) * (2 - abs(dj - 1)) * tile[ty + di, tx + dj]
        out[i, j] = acc / 16.0
