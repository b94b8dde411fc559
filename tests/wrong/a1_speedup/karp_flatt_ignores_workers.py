# Wrong: the Karp-Flatt metric taken as 1/speedup. That is the serial fraction only with infinitely
# many workers; with n workers the part n of them do in parallel must come off first:
# e = (1/S - 1/n) / (1 - 1/n). The argument checks are kept, so only the values are wrong.
# breaks: amdahl.python.correctness


def karp_flatt(speedup, workers):
    if isinstance(speedup, bool) or not isinstance(speedup, numbers.Real) or not speedup > 0 or math.isinf(speedup):
        raise ValueError(f"speedup must be a positive number, got {speedup!r}")
    _check_workers(workers, 2)
    return 1.0 / speedup
