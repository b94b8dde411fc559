# differs: blur_cpu hands out bands of rows (one prange iteration per band of 32 rows, not per
# row) and computes the interior without any clamping, the first/last row and column apart.

BAND = 32


@njit
def _blur_pixel_clamped(image, i, j, rows, cols):
    acc = 0.0
    for di in range(-1, 2):
        r = min(max(i + di, 0), rows - 1)
        for dj in range(-1, 2):
            c = min(max(j + dj, 0), cols - 1)
            acc += (2 - abs(di)) * (2 - abs(dj)) * image[r, c]
    return acc / 16.0


@njit(parallel=True)
def blur_cpu(image, out):
    rows, cols = image.shape
    for band in prange((rows + BAND - 1) // BAND):
        for i in range(band * BAND, min(rows, (band + 1) * BAND)):
            if i == 0 or i == rows - 1 or cols < 3:
                for j in range(cols):
                    out[i, j] = _blur_pixel_clamped(image, i, j, rows, cols)
                continue
            out[i, 0] = _blur_pixel_clamped(image, i, 0, rows, cols)
            for j in range(1, cols - 1):
                acc = image[i - 1, j - 1] + 2.0 * image[i - 1, j] + image[i - 1, j + 1]
                acc += 2.0 * image[i, j - 1] + 4.0 * image[i, j] + 2.0 * image[i, j + 1]
                acc += image[i + 1, j - 1] + 2.0 * image[i + 1, j] + image[i + 1, j + 1]
                out[i, j] = acc / 16.0
            out[i, cols - 1] = _blur_pixel_clamped(image, i, cols - 1, rows, cols)
