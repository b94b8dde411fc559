# Wrong: the reference's loop with its prange turned into range. It is a better serial loop than
# blur_serial (no clamping inside a row: 1.2-1.4x faster on its own), but it runs on one core,
# so none of that is a speedup from parallelism.
# breaks: blur.cpu.performance
@njit
def blur_cpu(image, out):
    rows, cols = image.shape
    for i in range(rows):
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
