# Wrong: the kernel stops every pixel after a fixed 50 steps (the value the public test happens to
# use) instead of the max_iter it is given: right for max_iter = 50, wrong for any other.
# breaks: tiles.gpu.correctness

MAX_STEPS = 50


@cuda.jit
def mandelbrot_kernel(points, max_iter, out):
    c, r = cuda.grid(2)
    if r < out.shape[0] and c < out.shape[1]:
        cr = points[0, r, c]
        ci = points[1, r, c]
        zr = 0.0
        zi = 0.0
        n = 0
        while n < MAX_STEPS and zr * zr + zi * zi <= 4.0:
            zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
            n += 1
        out[r, c] = n
