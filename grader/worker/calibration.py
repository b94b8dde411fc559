"""Staff kernels that tell how much parallelism and bandwidth the machine delivers right now.

Timed in the same rounds as the student's code, they turn "is this machine busy?" into numbers:
- the compute probe: a perfectly parallel, compute-bound loop, serial and with `prange`; its
  serial/parallel time ratio is the speedup this machine can deliver at this moment (its capacity).
  Its inner loop is throughput-bound (independent libm calls, like most student kernels), so it
  feels what they feel: on a VM the serial speed of such code swings by ±20 % with whatever shares
  the physical core, and a latency-bound probe (one long dependency chain) did not see that;
- the bandwidth probe: a STREAM-like triad, serial and parallel; bytes per second it moves is the
  ceiling a memory-bound task can reach.
Neither is student code, and neither resembles a solution closely enough to be copied usefully.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

COMPUTE_PROBE_SIZE = 4096
COMPUTE_PROBE_WORK = 200  # inner iterations per element: ~14 ms serial on a 2026 server core
BANDWIDTH_PROBE_SIZE = 4_000_000  # three float64 arrays of 32 MB each: far beyond any cache


@njit(inline="always")
def _probe_element(v, work):
    acc = 0.0
    for k in range(work):
        acc += math.sin(v * (k + 1)) * 0.5  # independent calls: throughput-bound, not latency-bound
    return acc


@njit(cache=False)
def _compute_serial(x, work):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = _probe_element(x[i], work)
    return out


@njit(parallel=True, cache=False)
def _compute_parallel(x, work):
    out = np.empty_like(x)
    for i in prange(x.shape[0]):
        out[i] = _probe_element(x[i], work)
    return out


@njit(cache=False)
def _triad_serial(a, b, c, s):
    for i in range(a.shape[0]):
        a[i] = b[i] + s * c[i]


@njit(parallel=True, cache=False)
def _triad_parallel(a, b, c, s):
    for i in prange(a.shape[0]):
        a[i] = b[i] + s * c[i]


class ComputeProbe:
    """Perfectly parallel compute: serial and parallel versions, compiled once at construction."""

    def __init__(self, size: int = COMPUTE_PROBE_SIZE, work: int = COMPUTE_PROBE_WORK) -> None:
        self.x = np.linspace(0.0, 1.0, size)
        self.work = work
        self.serial()
        self.parallel()

    def serial(self) -> None:
        _compute_serial(self.x, self.work)

    def parallel(self) -> None:
        _compute_parallel(self.x, self.work)

    def scale(self, factor: float) -> None:
        """Make each call ``factor`` times longer (the measurement matches it to the baseline's time)."""
        self.work = max(1, round(self.work * factor))


class BandwidthProbe:
    """A triad a = b + s*c: 24 bytes per element moved (read b, c; write a)."""

    BYTES_PER_ELEMENT = 24

    def __init__(self, size: int = BANDWIDTH_PROBE_SIZE) -> None:
        self.a, self.b, self.c = np.zeros(size), np.ones(size), np.full(size, 2.0)
        self.bytes = size * self.BYTES_PER_ELEMENT
        self.serial()
        self.parallel()

    def serial(self) -> None:
        _triad_serial(self.a, self.b, self.c, 3.0)

    def parallel(self) -> None:
        _triad_parallel(self.a, self.b, self.c, 3.0)
