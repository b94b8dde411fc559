# Wrong: a fast serial loop over the first nine tenths of the rows and prange over the last
# tenth only. Faster than blur_serial (the loop is better), but running in parallel saves at most
# a twentieth of the time on two cores: Amdahl's law with a parallel fraction of 0.1.
# breaks: blur.cpu.performance
@njit(inline="always")
def _blur_row(image, out, i):
    rows, cols = image.shape
    up = image[max(i - 1, 0)]
    mid = image[i]
    down = image[min(i + 1, rows - 1)]
    dst = out[i]
    for j in range(cols):
        left = max(j - 1, 0)
        right = min(j + 1, cols - 1)
        acc = up[left] + 2.0 * up[j] + up[right]
        acc += 2.0 * mid[left] + 4.0 * mid[j] + 2.0 * mid[right]
        acc += down[left] + 2.0 * down[j] + down[right]
        dst[j] = acc / 16.0


@njit(parallel=True)
def blur_cpu(image, out):
    rows = image.shape[0]
    split = rows - rows // 10
    for i in range(split):
        _blur_row(image, out, i)
    for i in prange(split, rows):
        _blur_row(image, out, i)
