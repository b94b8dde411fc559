"""Reference solution for assignment a1 (instructors only: never released)."""

from __future__ import annotations

import math
import numbers

import numpy as np
from numba import cuda, njit, prange

THREADS_PER_BLOCK = 128


def _check_fraction(p: float) -> None:
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"parallel_fraction must be a number in [0, 1], got {p!r}")


def _check_workers(n: int, least: int) -> None:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < least:
        raise ValueError(f"workers must be an integer >= {least}, got {n!r}")


def amdahl_speedup(parallel_fraction: float, workers: int) -> float:
    _check_fraction(parallel_fraction)
    _check_workers(workers, 1)
    return 1.0 / ((1.0 - parallel_fraction) + parallel_fraction / workers)


def karp_flatt(speedup: float, workers: int) -> float:
    if isinstance(speedup, bool) or not isinstance(speedup, numbers.Real) or not speedup > 0 or math.isinf(speedup):
        raise ValueError(f"speedup must be a positive number, got {speedup!r}")
    _check_workers(workers, 2)
    return (1.0 / speedup - 1.0 / workers) / (1.0 - 1.0 / workers)


def workers_needed(parallel_fraction: float, target_speedup: float) -> int:
    _check_fraction(parallel_fraction)
    if isinstance(target_speedup, bool) or not isinstance(target_speedup, numbers.Real) or not target_speedup >= 1:
        raise ValueError(f"target_speedup must be a number >= 1, got {target_speedup!r}")
    if target_speedup == 1:
        return 1
    serial = 1.0 - parallel_fraction
    # The limit 1/serial is approached but never reached; compare with a relative tolerance so a
    # target equal to the limit (0.9 -> 10x, where 1 - 0.9 is not exactly 0.1) is out of reach too.
    if serial * target_speedup >= 1.0 - 1e-9:
        limit = math.inf if serial == 0 else 1.0 / serial
        raise ValueError(f"a speedup of {target_speedup} is out of reach: the limit is {limit:.4g}")
    # 1 / (s + p/n) >= T  <=>  n >= p T / (1 - s T)
    n = max(1, math.ceil(parallel_fraction * target_speedup / (1.0 - serial * target_speedup) - 1e-9))
    for _ in range(4):  # settle rounding at the boundary: smallest n that reaches the target
        if amdahl_speedup(parallel_fraction, n) < target_speedup:
            n += 1
        elif n > 1 and amdahl_speedup(parallel_fraction, n - 1) >= target_speedup:
            n -= 1
    return n


@njit
def fourier_serial(x, terms):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        acc = 0.0
        for k in range(terms):
            n = 2 * k + 1
            acc += math.sin(n * x[i]) / n
        out[i] = acc * (4.0 / math.pi)
    return out


@njit(inline="always")
def _square_wave(xi, terms):
    """One element's partial sum, in the same order as fourier_serial (so results match to the bit)."""
    acc = 0.0
    for k in range(terms):
        n = 2 * k + 1
        acc += math.sin(n * xi) / n
    return acc * (4.0 / math.pi)


@njit(parallel=True)
def fourier_cpu(x, terms):
    out = np.empty_like(x)
    for i in prange(x.shape[0]):  # elements are independent: no shared writes, no reduction
        out[i] = _square_wave(x[i], terms)
    return out


@cuda.jit
def fourier_kernel(x, terms, out):
    i = cuda.grid(1)
    if i < x.shape[0]:
        acc = 0.0
        for k in range(terms):
            n = 2 * k + 1
            acc += math.sin(n * x[i]) / n
        out[i] = acc * (4.0 / math.pi)


def fourier_gpu(x, terms):
    out = cuda.device_array(x.shape, dtype=x.dtype)
    blocks = (x.shape[0] + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    fourier_kernel[blocks, THREADS_PER_BLOCK](x, terms, out)
    return out
