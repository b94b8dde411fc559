# differs: blur_cpu is the serial loop with prange over the rows and nothing else: clamped indices
# for every neighbour, no edge cases split off, no row slices.


@njit(parallel=True)
def blur_cpu(image, out):
    rows, cols = image.shape
    for i in prange(rows):
        for j in range(cols):
            acc = 0.0
            for di in range(-1, 2):
                r = min(max(i + di, 0), rows - 1)
                for dj in range(-1, 2):
                    c = min(max(j + dj, 0), cols - 1)
                    acc += (2 - abs(di)) * (2 - abs(dj)) * image[r, c]
            out[i, j] = acc / 16.0
