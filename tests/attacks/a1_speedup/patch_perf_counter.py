# Attack: make the clock run slow while the candidate runs, so it looks fast.
import time as _time

_real = _time.perf_counter
_honest_fourier_cpu = fourier_cpu


def fourier_cpu(x, terms):
    start = _real()
    out = _honest_fourier_cpu(x, terms)
    spent = _real() - start
    _time.perf_counter = lambda: _real() - spent * 0.9  # hide 90 % of the time just spent
    return out
