"""Assignment a6 — reference solution (instructors only; never released)."""

from __future__ import annotations

import math

import numpy as np
from numba import cuda, get_num_threads, njit, prange

THREADS_PER_BLOCK = 64  # one block of the GPU scan: this many threads, one element each

# --------------------------------------------------------------------------------------------
# Task 1 — workspan: what the two-pass scan costs (plain Python)
# --------------------------------------------------------------------------------------------


def _check_n_chunks(n, chunks, least_n=0):
    for name, value, least in (("n", n, least_n), ("chunks", chunks, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")


def two_pass_work(n: int, chunks: int) -> int:
    _check_n_chunks(n, chunks)
    return 2 * n + chunks


def two_pass_span(n: int, chunks: int) -> int:
    _check_n_chunks(n, chunks)
    return 2 * math.ceil(n / chunks) + chunks


def two_pass_speedup(n: int, cores: int) -> float:
    _check_n_chunks(n, cores, least_n=1)
    return n / two_pass_span(n, cores)


def two_pass_traffic(in_bytes: int, out_bytes: int) -> float:
    for name, value in (("in_bytes", in_bytes), ("out_bytes", out_bytes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return (2 * in_bytes + out_bytes) / (in_bytes + out_bytes)


# --------------------------------------------------------------------------------------------
# Task 2 — scan: prefix sums
# --------------------------------------------------------------------------------------------


@njit
def scan_serial(x, out, inclusive):
    """Serial reference. Writes the prefix sums of the 1-D array `x` into `out` (same length) and
    returns nothing. Inclusive: out[i] = x[0] + ... + x[i]; exclusive: out[i] = x[0] + ... + x[i-1]
    (out[0] = 0). The running sum is kept in int64 for integer input and float64 for float input,
    added from left to right."""
    acc = 0
    if inclusive:
        for i in range(x.shape[0]):
            acc += x[i]
            out[i] = acc
    else:
        for i in range(x.shape[0]):
            out[i] = acc
            acc += x[i]


@njit(parallel=True)
def scan_cpu(x, out, inclusive):
    n = x.shape[0]
    chunks = max(1, min(get_num_threads(), n))
    sums = np.zeros(chunks, dtype=out.dtype)
    for c in prange(chunks):  # pass 1: each chunk's total
        acc = sums[c]
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            acc += x[i]
        sums[c] = acc
    offsets = np.zeros(chunks, dtype=out.dtype)
    for c in range(1, chunks):  # the chunk totals, scanned exclusively: where each chunk starts
        offsets[c] = offsets[c - 1] + sums[c - 1]
    for c in prange(chunks):  # pass 2: each chunk scanned again, starting from its offset
        acc = offsets[c]
        if inclusive:
            for i in range(c * n // chunks, (c + 1) * n // chunks):
                acc += x[i]
                out[i] = acc
        else:
            for i in range(c * n // chunks, (c + 1) * n // chunks):
                out[i] = acc
                acc += x[i]


@cuda.jit
def scan_block_kernel(x, out, block_sums, inclusive):
    tile = cuda.shared.array(THREADS_PER_BLOCK, out.dtype)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    value = x[i] if i < x.shape[0] else 0
    tile[t] = value
    cuda.syncthreads()
    step = 1
    while step < THREADS_PER_BLOCK:  # up-sweep: partial sums up a binary tree
        k = (t + 1) * 2 * step - 1
        if k < THREADS_PER_BLOCK:
            tile[k] += tile[k - step]
        cuda.syncthreads()
        step *= 2
    if t == 0:
        block_sums[cuda.blockIdx.x] = tile[THREADS_PER_BLOCK - 1]
        tile[THREADS_PER_BLOCK - 1] = 0
    cuda.syncthreads()
    step = THREADS_PER_BLOCK // 2
    while step > 0:  # down-sweep: each node passes its prefix to the left child, adds the left sum for the right
        k = (t + 1) * 2 * step - 1
        if k < THREADS_PER_BLOCK:
            left = tile[k - step]
            tile[k - step] = tile[k]
            tile[k] += left
        cuda.syncthreads()
        step //= 2
    if i < x.shape[0]:
        if inclusive:
            out[i] = tile[t] + value
        else:
            out[i] = tile[t]


@cuda.jit
def add_offsets_kernel(out, offsets):
    i = cuda.grid(1)
    if i < out.shape[0]:
        out[i] += offsets[cuda.blockIdx.x]


def scan_gpu(x, inclusive):
    n = x.shape[0]
    dtype = np.float64 if x.dtype.kind == "f" else np.int64
    out = cuda.device_array(n, dtype=dtype)
    if n == 0:
        return out
    blocks = (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    block_sums = cuda.device_array(blocks, dtype=dtype)
    scan_block_kernel[blocks, THREADS_PER_BLOCK](x, out, block_sums, inclusive)
    if blocks > 1:
        offsets = scan_gpu(block_sums, False)  # the block totals, scanned exclusively (recursively)
        add_offsets_kernel[blocks, THREADS_PER_BLOCK](out, offsets)
    return out


# --------------------------------------------------------------------------------------------
# Task 3 — compact: keep the elements above a threshold, in order
# --------------------------------------------------------------------------------------------


@njit
def compact_serial(x, threshold):
    """Serial reference. The elements of the 1-D array `x` greater than `threshold`, in their
    order in `x`, as a new array of x's dtype (empty when none is kept)."""
    kept = np.empty(x.shape[0], dtype=x.dtype)
    k = 0
    for i in range(x.shape[0]):
        if x[i] > threshold:
            kept[k] = x[i]
            k += 1
    return kept[:k].copy()


@njit(parallel=True)
def compact_cpu(x, threshold):
    n = x.shape[0]
    chunks = max(1, min(get_num_threads(), n))
    counts = np.zeros(chunks, dtype=np.int64)
    for c in prange(chunks):  # pass 1: how many each chunk keeps
        k = 0
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            if x[i] > threshold:
                k += 1
        counts[c] = k
    starts = np.zeros(chunks, dtype=np.int64)
    for c in range(1, chunks):  # exclusive scan of the counts: where each chunk writes
        starts[c] = starts[c - 1] + counts[c - 1]
    out = np.empty(starts[chunks - 1] + counts[chunks - 1], dtype=x.dtype)
    for c in prange(chunks):  # pass 2: each chunk writes its kept elements from its start, in order
        k = starts[c]
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            if x[i] > threshold:
                out[k] = x[i]
                k += 1
    return out


@cuda.jit
def flag_kernel(x, threshold, flags):
    i = cuda.grid(1)
    if i < x.shape[0]:
        flags[i] = 1 if x[i] > threshold else 0


@cuda.jit
def scatter_kernel(x, threshold, positions, out):
    i = cuda.grid(1)
    if i < x.shape[0] and x[i] > threshold:
        out[positions[i] - 1] = x[i]


def compact_gpu(x, threshold):
    n = x.shape[0]
    if n == 0:
        return cuda.device_array(0, dtype=x.dtype)
    blocks = (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    flags = cuda.device_array(n, dtype=np.int64)
    flag_kernel[blocks, THREADS_PER_BLOCK](x, threshold, flags)
    positions = scan_gpu(flags, True)  # inclusive: element i goes to positions[i] - 1; the last is the count
    count = int(positions[n - 1 :].copy_to_host()[0])
    out = cuda.device_array(count, dtype=x.dtype)
    if count > 0:
        scatter_kernel[blocks, THREADS_PER_BLOCK](x, threshold, positions, out)
    return out
