"""Assignment a2 — races and reductions.

Fill in every function that raises NotImplementedError (and the kernel bodies). Keep the names,
signatures and decorators: the grader imports this file and calls them. The serial references
(`*_serial`) are yours to read and run; the grader times your code against its own copy of them.

Check your work with `grader test a2` (see README.md for how each task is graded).
"""

from __future__ import annotations

import numpy as np
from numba import cuda, int64, njit, prange  # noqa: F401  (prange, int64 are for you)

MAX_BINS = 256  # the GPU histogram keeps one block's bins in shared memory: at most this many
THREADS_PER_BLOCK = 128  # the GPU dot product's block size (its shared-memory tree has this many slots)

# --------------------------------------------------------------------------------------------
# Task 1 — histogram: count how often each value occurs
# --------------------------------------------------------------------------------------------


@njit
def histogram_serial(values, nbins):
    """Serial reference. `values` is a 1-D integer array with every value in [0, nbins); the result
    is an int64 array of `nbins` counts."""
    counts = np.zeros(nbins, dtype=np.int64)
    for i in range(values.shape[0]):
        counts[values[i]] += 1
    return counts


@njit(parallel=True)
def histogram_cpu(values, nbins):
    """Same result as histogram_serial, on all cores. Two threads must never update the same
    count at the same time: give each chunk of the input its own private bins, then merge them."""
    raise NotImplementedError("histogram_cpu")


@cuda.jit
def histogram_kernel(values, counts):
    """Each block counts its part of `values` in shared-memory bins (cuda.atomic.add), then adds
    its bins to the global `counts` (again atomically). `counts` starts at zero; len(counts) is
    nbins <= MAX_BINS. Threads past the end of `values` count nothing."""
    pass  # replace with your kernel body


def histogram_gpu(values, nbins):
    """Launch histogram_kernel over `values` (a device array: CuPy on a GPU, NumPy under the
    simulator) and return the int64 counts as a device array."""
    raise NotImplementedError("histogram_gpu")


# --------------------------------------------------------------------------------------------
# Task 2 — dot: a reduction
# --------------------------------------------------------------------------------------------


@njit
def dot_serial(a, b):
    """Serial reference: the sum of a[i] * b[i] over two 1-D float64 arrays of equal length,
    accumulated in float64, as a Python float."""
    acc = 0.0
    for i in range(a.shape[0]):
        acc += a[i] * b[i]
    return acc


@njit(parallel=True)
def dot_cpu(a, b):
    """Same value as dot_serial (up to rounding: the order of the additions may differ), on all cores."""
    raise NotImplementedError("dot_cpu")


@cuda.jit
def dot_kernel(a, b, partial):
    """Block j writes the sum of a[i] * b[i] over its THREADS_PER_BLOCK elements to partial[j]:
    each thread puts its product in shared memory, then the block adds them pairwise in a tree
    (halving the active threads each step), with cuda.syncthreads() between the steps."""
    pass  # replace with your kernel body


def dot_gpu(a, b):
    """Launch dot_kernel over `a` and `b` (device arrays) and return the dot product as a Python
    float (add the per-block partial sums however you like)."""
    raise NotImplementedError("dot_gpu")
