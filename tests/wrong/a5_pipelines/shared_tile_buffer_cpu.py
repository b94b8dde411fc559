# Wrong: the pool's workers compute each tile into one scratch tile allocated once per call and
# shared by all of them, then copy it into the image. The counting releases the GIL, so two
# workers fill the same scratch tile at the same time and copy out each other's pixels.
# breaks: tiles.cpu.correctness


@njit(nogil=True)
def _escape_into(points, max_iter, buf, r0, c0, rows, cols):
    for r in range(rows):
        for c in range(cols):
            cr = points[0, r0 + r, c0 + c]
            ci = points[1, r0 + r, c0 + c]
            zr = 0.0
            zi = 0.0
            n = 0
            while n < max_iter and zr * zr + zi * zi <= 4.0:
                zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
                n += 1
            buf[r, c] = n


def tiles_cpu(points, max_iter, workers=2):
    height, width = points.shape[1], points.shape[2]
    out = np.empty((height, width), dtype=np.int32)
    across = (width + TILE - 1) // TILE
    buf = np.empty((TILE, TILE), dtype=np.int32)  # "one scratch tile is enough: allocate it once"

    def one(t):
        r0, c0 = (t // across) * TILE, (t % across) * TILE
        rows, cols = min(TILE, height - r0), min(TILE, width - c0)
        _escape_into(points, max_iter, buf, r0, c0, rows, cols)
        out[r0 : r0 + rows, c0 : c0 + cols] = buf[:rows, :cols]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(one, range(tile_count(height, width))):
            pass
    return out
