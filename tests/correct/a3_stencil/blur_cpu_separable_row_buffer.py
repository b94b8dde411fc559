# differs: blur_cpu is separable: per row, a vertical 1-2-1 pass into a private row buffer, then a
# horizontal 1-2-1 pass over that buffer (6 multiply-adds per pixel instead of 9).


@njit(parallel=True)
def blur_cpu(image, out):
    rows, cols = image.shape
    for i in prange(rows):
        up = image[max(i - 1, 0)]
        mid = image[i]
        down = image[min(i + 1, rows - 1)]
        v = np.empty(cols, dtype=np.float64)  # this row's vertical sums: private to the thread
        for j in range(cols):
            v[j] = up[j] + 2.0 * mid[j] + down[j]
        for j in range(cols):
            out[i, j] = (v[max(j - 1, 0)] + 2.0 * v[j] + v[min(j + 1, cols - 1)]) / 16.0
