"""Assignment a6 — scan and stream compaction.

Fill in every function that raises NotImplementedError (and the kernel bodies). Keep the names,
signatures and decorators: the grader imports this file and calls them. The serial references
(`*_serial`) are yours to read and run; the grader times your code against its own copy of them.

Check your work with `grader test a6` (see README.md for how each task is graded).
"""

from __future__ import annotations

import math  # noqa: F401  (for you)

import numpy as np
from numba import cuda, get_num_threads, njit, prange  # noqa: F401  (prange, get_num_threads are for you)

THREADS_PER_BLOCK = 64  # one block of the GPU scan: this many threads, one element each

# --------------------------------------------------------------------------------------------
# Task 1 — workspan: what the two-pass scan costs (plain Python)
#
# Counting rules. The serial scan does n additions (a running sum starting at 0, one addition per
# element). The two-pass scan splits the n elements into `chunks` contiguous chunks of near-equal
# size (chunk c holds elements c*n//chunks up to (c+1)*n//chunks): pass 1 adds up each chunk (one
# addition per element, from 0), then the chunk totals are scanned serially into the chunks'
# starting offsets (one addition per chunk), then pass 2 scans each chunk again starting from its
# offset (one addition per element). Span: the additions in a row when every chunk has its own
# worker, each addition taking one step: the largest chunk in pass 1, then the serial scan of the
# totals, then the largest chunk in pass 2.
# --------------------------------------------------------------------------------------------


def two_pass_work(n: int, chunks: int) -> int:
    """Additions the two-pass scan does on n elements in `chunks` chunks (the counting rules above).

    Raise ValueError unless n is an integer >= 0 and chunks an integer >= 1 (bool is not an integer here).
    """
    raise NotImplementedError("two_pass_work")


def two_pass_span(n: int, chunks: int) -> int:
    """Steps the two-pass scan takes on n elements in `chunks` chunks with one worker per chunk.

    Raise ValueError as two_pass_work does.
    """
    raise NotImplementedError("two_pass_span")


def two_pass_speedup(n: int, cores: int) -> float:
    """The serial scan's additions over the two-pass scan's span with one chunk per core: the
    speedup the counting rules predict when memory is not the limit.

    Raise ValueError unless n is an integer >= 1 and cores an integer >= 1.
    """
    raise NotImplementedError("two_pass_speedup")


def two_pass_traffic(in_bytes: int, out_bytes: int) -> float:
    """Bytes the two-pass scan moves per element over the bytes the serial scan moves, when each
    input element takes `in_bytes` and each output element `out_bytes`: the serial scan reads the
    input once and writes the output once; the two-pass scan reads the input in both passes and
    writes the output once (the chunk totals are too few to count).

    Raise ValueError unless both are integers >= 1.
    """
    raise NotImplementedError("two_pass_traffic")


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
    """Same result as scan_serial, written into `out`, on all cores: a chunked two-pass scan.

    `x` is a 1-D int32, int64 or float64 array; `out` has x's length and is int64 for integer x,
    float64 for float x (it may hold anything when you get it: write every element). Split x into
    chunks; pass 1 (prange over the chunks) adds up each chunk; scan the chunk totals serially into
    each chunk's starting offset; pass 2 (prange again) scans each chunk from its offset into out.
    Keep every running sum and the chunk totals in out's dtype (int32 totals overflow), return
    nothing and leave x unchanged. Float results may differ from scan_serial in the last bits."""
    raise NotImplementedError("scan_cpu")


@cuda.jit
def scan_block_kernel(x, out, block_sums, inclusive):
    """Block b scans its THREADS_PER_BLOCK elements x[b*T : b*T+T] (T = THREADS_PER_BLOCK; 0 in
    place of elements past the end) with a work-efficient scan in shared memory: each thread loads
    one element into a shared tile (`cuda.shared.array(THREADS_PER_BLOCK, out.dtype)`), an up-sweep
    builds partial sums up a binary tree, the root (the block's total) goes to block_sums[b] and is
    replaced by 0, a down-sweep turns the tree into the exclusive prefix sums of the block, with
    `cuda.syncthreads()` after every step. Then each thread with an element writes its prefix sum
    within the block to out (plus its own element when `inclusive`)."""
    pass  # replace with your kernel body


@cuda.jit
def add_offsets_kernel(out, offsets):
    """Thread i adds offsets[b] to out[i], b the block of element i (blocks of THREADS_PER_BLOCK,
    as in scan_block_kernel). Threads past the end of out do nothing."""
    pass  # replace with your kernel body


def scan_gpu(x, inclusive):
    """The prefix sums of the 1-D device array `x` (CuPy on a GPU, its stand-in under the
    simulator; int32, int64 or float64) as a new device array of x's length, int64 for integer x
    and float64 for float x (`cuda.device_array`). Any length, 0 included: launch
    scan_block_kernel on blocks of THREADS_PER_BLOCK, scan the block totals exclusively (more than
    one block of them needs the same method again), then add_offsets_kernel. Leave x unchanged and
    on the device."""
    raise NotImplementedError("scan_gpu")


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
    """Same result as compact_serial, on all cores, built on a scan: split x into chunks, count
    the kept elements of each chunk (prange), scan the counts exclusively into each chunk's first
    output position, allocate the output, and let each chunk write its kept elements from there
    (prange again). The kept elements keep their order. `x` is a 1-D int32, int64 or float64 array;
    leave it unchanged."""
    raise NotImplementedError("compact_cpu")


@cuda.jit
def flag_kernel(x, threshold, flags):
    """Thread i writes flags[i] = 1 if x[i] > threshold else 0. Threads past the end do nothing."""
    pass  # replace with your kernel body


@cuda.jit
def scatter_kernel(x, threshold, positions, out):
    """Thread i, when x[i] > threshold, writes x[i] to out at the position the scan of the flags
    gives it (`positions` is the scan; whether it is inclusive or exclusive is your choice).
    Threads past the end, and threads whose element is not kept, write nothing."""
    pass  # replace with your kernel body


def compact_gpu(x, threshold):
    """The elements of the 1-D device array `x` greater than `threshold`, in order, as a new
    device array of x's dtype and of exactly their number: flag_kernel, a scan of the flags with
    your scan_gpu, one small copy to the host to learn the count, then scatter_kernel into an
    output of that size. Any length, 0 included; leave x unchanged and on the device."""
    raise NotImplementedError("compact_gpu")
