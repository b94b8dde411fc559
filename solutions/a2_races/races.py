"""Assignment a2 — reference solution (instructors only; never released)."""

from __future__ import annotations

import numpy as np
from numba import cuda, float64, get_num_threads, int64, njit, prange

MAX_BINS = 256  # the GPU histogram keeps one block's bins in shared memory: at most this many
THREADS_PER_BLOCK = 128  # the GPU dot product's block size (its shared-memory tree has this many slots)

# --------------------------------------------------------------------------------------------
# Task 1 — histogram
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
    """Privatized bins: one row per chunk, each chunk counted by one thread, rows summed at the end."""
    n = values.shape[0]
    chunks = max(1, min(get_num_threads() * 4, n))
    local = np.zeros((chunks, nbins), dtype=np.int64)
    for c in prange(chunks):
        mine = np.zeros(nbins, dtype=np.int64)  # this thread's own bins: nobody else writes them
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            mine[values[i]] += 1
        local[c, :] = mine
    counts = np.zeros(nbins, dtype=np.int64)
    for c in range(chunks):
        for k in range(nbins):
            counts[k] += local[c, k]
    return counts


@cuda.jit
def histogram_kernel(values, counts):
    bins = cuda.shared.array(MAX_BINS, int64)
    t = cuda.threadIdx.x
    nbins = counts.shape[0]
    for k in range(t, nbins, cuda.blockDim.x):
        bins[k] = 0
    cuda.syncthreads()
    for i in range(cuda.grid(1), values.shape[0], cuda.gridsize(1)):
        cuda.atomic.add(bins, values[i], 1)
    cuda.syncthreads()
    for k in range(t, nbins, cuda.blockDim.x):
        cuda.atomic.add(counts, k, bins[k])


def histogram_gpu(values, nbins):
    counts = cuda.to_device(np.zeros(nbins, dtype=np.int64))
    threads = 256
    blocks = max(1, min(1024, (values.shape[0] + threads - 1) // threads))
    histogram_kernel[blocks, threads](values, counts)
    return counts


# --------------------------------------------------------------------------------------------
# Task 2 — dot
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
    acc = 0.0
    for i in prange(a.shape[0]):
        acc += a[i] * b[i]
    return acc


@cuda.jit
def dot_kernel(a, b, partial):
    cache = cuda.shared.array(THREADS_PER_BLOCK, float64)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    cache[t] = a[i] * b[i] if i < a.shape[0] else 0.0
    cuda.syncthreads()
    step = THREADS_PER_BLOCK // 2
    while step > 0:
        if t < step:
            cache[t] += cache[t + step]
        cuda.syncthreads()
        step //= 2
    if t == 0:
        partial[cuda.blockIdx.x] = cache[0]


def dot_gpu(a, b):
    blocks = max(1, (a.shape[0] + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)
    partial = cuda.device_array(blocks, dtype=np.float64)
    dot_kernel[blocks, THREADS_PER_BLOCK](a, b, partial)
    return float(partial.copy_to_host().sum())
