# differs: traffic validates with operator.index (any integer type, bools refused) and counts a
# warp's segments in one pass over the threads' address ranges (they only grow) instead of a set.
import operator


def _as_int(value, name, least):
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer, not a bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if value < least:
        raise ValueError(f"{name} must be >= {least}, got {value}")
    return value


def loads_per_output(tile, radius):
    tile, radius = _as_int(tile, "tile", 1), _as_int(radius, "radius", 0)
    return (1.0 + 2.0 * radius / tile) ** 2


def tiled_loads(rows, cols, tile, radius):
    rows, cols = _as_int(rows, "rows", 1), _as_int(cols, "cols", 1)
    tile, radius = _as_int(tile, "tile", 1), _as_int(radius, "radius", 0)
    across, down = (cols + tile - 1) // tile, (rows + tile - 1) // tile
    return across * down * (tile + 2 * radius) * (tile + 2 * radius)


def warp_segments(stride, itemsize=8, warp=32, segment=128):
    stride, itemsize = _as_int(stride, "stride", 0), _as_int(itemsize, "itemsize", 1)
    warp, segment = _as_int(warp, "warp", 1), _as_int(segment, "segment", 1)
    count, last = 0, -1  # last: the highest segment counted so far
    for t in range(warp):
        first = t * stride * itemsize // segment
        end = (t * stride * itemsize + itemsize - 1) // segment
        if end > last:
            count += end - max(first, last + 1) + 1
            last = end
    return count
