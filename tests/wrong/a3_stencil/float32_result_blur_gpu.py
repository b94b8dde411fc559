# Wrong: the output allocated as float32: the kernel's float64 sums are rounded to about 7
# significant digits when stored, and the result has the wrong dtype.
# breaks: blur.gpu.correctness


def blur_gpu(image):
    rows, cols = image.shape
    out = cuda.device_array((rows, cols), dtype=np.float32)
    grid = ((cols + TILE - 1) // TILE, (rows + TILE - 1) // TILE)
    blur_kernel[grid, (TILE, TILE)](image, out)
    return out
