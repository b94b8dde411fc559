"""Assignment a1 — speedup and Amdahl's law.

Fill in every function that raises NotImplementedError. Keep the names, signatures and decorators:
the grader imports this file and calls them. The serial references (`*_serial`) are yours to read
and run; the grader times your code against its own copy of them, so editing them changes nothing.

Check your work with `grader test a1` (see README.md for how each task is graded).
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda, njit, prange  # noqa: F401  (prange is for you)

# --------------------------------------------------------------------------------------------
# Task 1 — amdahl: models of speedup (plain Python)
# --------------------------------------------------------------------------------------------


def amdahl_speedup(parallel_fraction: float, workers: int) -> float:
    """Speedup Amdahl's law predicts when `parallel_fraction` of the serial run time is spread
    perfectly over `workers` workers and the rest stays serial.

    Raise ValueError unless 0 <= parallel_fraction <= 1 and workers is an integer >= 1.
    """
    raise NotImplementedError("amdahl_speedup")


def karp_flatt(speedup: float, workers: int) -> float:
    """The experimentally determined serial fraction e (Karp–Flatt metric) for a measured
    `speedup` on `workers` workers.

    Raise ValueError unless speedup > 0 and workers is an integer >= 2.
    """
    raise NotImplementedError("karp_flatt")


def workers_needed(parallel_fraction: float, target_speedup: float) -> int:
    """The smallest number of workers whose Amdahl speedup is at least `target_speedup`.

    Raise ValueError if the target can never be reached with this parallel fraction, or if the
    inputs are out of range (0 <= parallel_fraction <= 1, target_speedup >= 1).
    """
    raise NotImplementedError("workers_needed")


# --------------------------------------------------------------------------------------------
# Task 2 — fourier: a compute-bound map, x -> partial Fourier sum of a square wave
# --------------------------------------------------------------------------------------------


@njit
def fourier_serial(x, terms):
    """Serial reference. For each element, (4/pi) * sum over k < terms of sin((2k+1)x) / (2k+1).

    `x` is a 1-D float32 or float64 array; the result has x's dtype and shape, and every sum is
    accumulated in float64 in increasing k.
    """
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        acc = 0.0
        for k in range(terms):
            n = 2 * k + 1
            acc += math.sin(n * x[i]) / n
        out[i] = acc * (4.0 / math.pi)
    return out


@njit(parallel=True)
def fourier_cpu(x, terms):
    """Same result as fourier_serial, with the elements spread over all cores (numba prange)."""
    raise NotImplementedError("fourier_cpu")


@cuda.jit
def fourier_kernel(x, terms, out):
    """One GPU thread per element: thread i computes out[i] as fourier_serial does.
    Threads past the end of the array must do nothing."""
    pass  # replace with your kernel body


def fourier_gpu(x, terms):
    """Launch fourier_kernel over all of `x` (a device array: CuPy on a GPU, NumPy under the
    simulator) and return the result as a device array (e.g. from cuda.device_array) of x's dtype."""
    raise NotImplementedError("fourier_gpu")
