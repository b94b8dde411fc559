# differs: mandelbrot_kernel computes its pixel from blockIdx/blockDim/threadIdx and returns early
# outside the image (allowed: it has no barrier); tiles_gpu sizes the grid with math.ceil.


@cuda.jit
def mandelbrot_kernel(points, max_iter, out):
    c = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
    r = cuda.blockIdx.y * cuda.blockDim.y + cuda.threadIdx.y
    if r >= out.shape[0] or c >= out.shape[1]:
        return
    cr = points[0, r, c]
    ci = points[1, r, c]
    zr = 0.0
    zi = 0.0
    n = 0
    while n < max_iter:
        zr2 = zr * zr
        zi2 = zi * zi
        if zr2 + zi2 > 4.0:
            break
        zi = 2.0 * zr * zi + ci
        zr = zr2 - zi2 + cr
        n += 1
    out[r, c] = n


def tiles_gpu(points, max_iter):
    height, width = points.shape[1], points.shape[2]
    out = cuda.device_array((height, width), dtype=np.int32)
    grid = (math.ceil(width / THREADS_2D[0]), math.ceil(height / THREADS_2D[1]))
    mandelbrot_kernel[grid, THREADS_2D](points, max_iter, out)
    return out
