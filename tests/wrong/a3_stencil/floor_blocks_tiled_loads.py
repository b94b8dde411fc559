# Wrong: the number of blocks rounded down (rows // tile) instead of up: the partial blocks at the
# right and bottom edges of an image that is not a multiple of the tile are forgotten.
# breaks: traffic.python.correctness


def tiled_loads(rows, cols, tile, radius):
    _check_int("rows", rows, 1)
    _check_int("cols", cols, 1)
    _check_int("tile", tile, 1)
    _check_int("radius", radius, 0)
    return (rows // tile) * (cols // tile) * (tile + 2 * radius) ** 2
