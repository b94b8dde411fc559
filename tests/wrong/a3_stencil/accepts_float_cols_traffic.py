# Wrong: tiled_loads checks that cols is at least 1 but not that it is an integer, so a column count
# of 10.5 or True gives a number instead of a ValueError.
# breaks: traffic.python.correctness
import math


def tiled_loads(rows, cols, tile, radius):
    _check_int("rows", rows, 1)
    _check_int("tile", tile, 1)
    _check_int("radius", radius, 0)
    if cols < 1:
        raise ValueError(f"cols must be at least 1, got {cols!r}")
    return int(math.ceil(rows / tile) * math.ceil(cols / tile) * (tile + 2 * radius) ** 2)
