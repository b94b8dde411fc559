# differs: arithmetic_intensity uses the simplified closed form n*tile / (8n + 4tile), and
# smallest_compute_bound_tile walks the divisors of n found in pairs up to sqrt(n), smallest first.
import math


def _integer(value, name):
    if type(value) is bool or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def _number(value, name):
    if type(value) is bool or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return float(value)


def arithmetic_intensity(n, tile):
    n, tile = _integer(n, "n"), _integer(tile, "tile")
    if n % tile != 0:
        raise ValueError(f"tile {tile} must divide n = {n}")
    return n * tile / (8 * n + 4 * tile)


def attainable_gflops(intensity, peak_gflops, bandwidth_gbs):
    x = _number(intensity, "intensity")
    peak, bw = _number(peak_gflops, "peak_gflops"), _number(bandwidth_gbs, "bandwidth_gbs")
    return peak if x * bw > peak else x * bw


def smallest_compute_bound_tile(n, peak_gflops, bandwidth_gbs):
    n = _integer(n, "n")
    ridge = _number(peak_gflops, "peak_gflops") / _number(bandwidth_gbs, "bandwidth_gbs")
    small, large = [], []
    for d in range(1, math.isqrt(n) + 1):
        if n % d == 0:
            small.append(d)
            if d != n // d:
                large.append(n // d)
    for tile in small + large[::-1]:
        if arithmetic_intensity(n, tile) >= ridge:
            return tile
    raise ValueError(f"no tile dividing {n} reaches the ridge point {ridge:g}")
