# Wrong: a separable blur (a vertical 1 2 1 pass into a row buffer, then a horizontal 1 2 1 pass out
# of it) whose row buffer is allocated once, outside the prange: every thread fills and reads the
# same buffer, so a thread reads sums another thread wrote for its own row.
# breaks: blur.cpu.correctness


@njit(parallel=True)
def blur_cpu(image, out):
    rows, cols = image.shape
    column_sums = np.empty(cols)
    for i in prange(rows):
        up = image[max(i - 1, 0)]
        mid = image[i]
        down = image[min(i + 1, rows - 1)]
        for j in range(cols):
            column_sums[j] = up[j] + 2.0 * mid[j] + down[j]
        for j in range(cols):
            left = column_sums[max(j - 1, 0)]
            right = column_sums[min(j + 1, cols - 1)]
            out[i, j] = (left + 2.0 * column_sums[j] + right) / 16.0
