# Wrong: the boundary rule: neighbours outside the image count as 0 (zero padding) instead of
# copies of the nearest edge pixel, so every pixel on the border of the image comes out too dark.
# breaks: blur.cpu.correctness


@njit(parallel=True)
def blur_cpu(image, out):
    rows, cols = image.shape
    for i in prange(rows):
        for j in range(cols):
            acc = 0.0
            for di in range(-1, 2):
                r = i + di
                if r < 0 or r >= rows:
                    continue
                for dj in range(-1, 2):
                    c = j + dj
                    if 0 <= c < cols:
                        acc += (2 - abs(di)) * (2 - abs(dj)) * image[r, c]
            out[i, j] = acc / 16.0
