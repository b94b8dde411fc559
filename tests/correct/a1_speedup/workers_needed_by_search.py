# differs: workers_needed searches for the smallest worker count (doubling, then bisection on
# amdahl_speedup) instead of solving Amdahl's law for n in closed form.


def workers_needed(parallel_fraction, target_speedup):
    _check_fraction(parallel_fraction)
    if isinstance(target_speedup, bool) or not isinstance(target_speedup, numbers.Real) or not target_speedup >= 1:
        raise ValueError(f"target_speedup must be a number >= 1, got {target_speedup!r}")
    serial = 1.0 - parallel_fraction
    limit = math.inf if serial == 0 else 1.0 / serial
    if target_speedup > 1 and target_speedup >= limit * (1.0 - 1e-9):
        raise ValueError(f"a speedup of {target_speedup} is out of reach: the limit is {limit:.4g}")
    hi = 1
    while amdahl_speedup(parallel_fraction, hi) < target_speedup:
        hi *= 2
    lo = hi // 2  # amdahl_speedup(lo) < target (or lo == 0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if amdahl_speedup(parallel_fraction, mid) >= target_speedup:
            hi = mid
        else:
            lo = mid
    return hi
