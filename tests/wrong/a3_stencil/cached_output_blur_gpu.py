# Wrong: blur_gpu keeps the output array of each image shape and hands the same array back on
# every call of that shape, so the next call overwrites the image the previous call returned.
# breaks: blur.gpu.correctness
_outputs = {}


def blur_gpu(image):
    rows, cols = image.shape
    if (rows, cols) not in _outputs:
        _outputs[(rows, cols)] = cuda.device_array((rows, cols), dtype=np.float64)
    out = _outputs[(rows, cols)]
    grid = ((cols + TILE - 1) // TILE, (rows + TILE - 1) // TILE)
    blur_kernel[grid, (TILE, TILE)](image, out)
    return out
