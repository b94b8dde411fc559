"""Assignment a4 — matrix multiplication.

Fill in every function that raises NotImplementedError (and the kernel body). Keep the names,
signatures and decorators: the grader imports this file and calls them. The serial reference
(`matmul_serial`) is yours to read and run; the grader times your code against its own copy of it.

Check your work with `grader test a4` (see README.md for how each task is graded).
"""

from __future__ import annotations

import numpy as np
from numba import cuda, float64, njit, prange  # noqa: F401  (prange and float64 are for you)

TILE = 8  # the GPU kernel's tiles are TILE x TILE, and so are its thread blocks (64 threads)

# --------------------------------------------------------------------------------------------
# Task 1 — matmul: C = A @ B
# --------------------------------------------------------------------------------------------


@njit
def matmul_serial(A, B):
    """Serial reference: C = A @ B for float64 matrices A (n x k) and B (k x m); C is float64 (n x m).

    The loops run in i-k-j order, not the textbook i-j-k: the innermost loop walks along a row of
    B and a row of C, both contiguous in memory, so every cache line fetched is used in full and
    the compiler can vectorise it. The textbook order walks down a column of B instead (one
    element per cache line) and is several times slower, which would flatter any parallel version
    timed against it: this baseline is the honest one.
    """
    n, k = A.shape
    m = B.shape[1]
    C = np.zeros((n, m), dtype=np.float64)
    for i in range(n):
        for p in range(k):
            a = A[i, p]
            for j in range(m):
                C[i, j] += a * B[p, j]
    return C


@njit(parallel=True)
def matmul_cpu(A, B):
    """Same result as matmul_serial, on all cores. Give each prange iteration its own rows of C
    (a block of rows is a good unit), so that no two threads ever write the same element; inside
    a block, keep the loop order cache-friendly, and consider blocking k so a panel of B fetched
    once is reused by every row of the block."""
    raise NotImplementedError("matmul_cpu")


@cuda.jit
def matmul_kernel(A, B, C):
    """One thread per element of C, in TILE x TILE blocks: thread (threadIdx.y, threadIdx.x) of
    block (blockIdx.y, blockIdx.x) computes C[row, col] with row = blockIdx.y * TILE + threadIdx.y
    and col = blockIdx.x * TILE + threadIdx.x. For each step along k, the block loads one
    TILE x TILE tile of A and one of B into shared memory (a zero wherever the tile hangs over the
    edge of a matrix), waits for the whole tile (cuda.syncthreads()), adds up its TILE products,
    and waits again before the next tile overwrites the shared arrays. Only threads inside C
    write their result."""
    pass  # replace with your kernel body


def matmul_gpu(A, B):
    """Launch matmul_kernel over a 2-D grid covering all of C (A and B are device arrays: CuPy on a
    GPU, NumPy under the simulator) and return C as a float64 device array (cuda.device_array)."""
    raise NotImplementedError("matmul_gpu")


# --------------------------------------------------------------------------------------------
# Task 2 — intensity: why tiles (plain Python)
# --------------------------------------------------------------------------------------------


def arithmetic_intensity(n: int, tile: int) -> float:
    """Flops per byte of global-memory traffic when the tiled kernel multiplies two n x n float64
    matrices with tile x tile tiles (tile = 1 is the naive kernel: every thread reads its row of A
    and its column of B from global memory). Count 2n^3 flops; as bytes, 8 per element of every
    tile loaded from A and B, plus 8 per element of C written once.

    Raise ValueError unless n and tile are integers >= 1 and tile divides n.
    """
    raise NotImplementedError("arithmetic_intensity")


def attainable_gflops(intensity: float, peak_gflops: float, bandwidth_gbs: float) -> float:
    """The roofline: the GFLOP/s a kernel of this arithmetic intensity (flops per byte) can reach on
    a machine with this peak compute (GFLOP/s) and memory bandwidth (GB/s).

    Raise ValueError unless all three are > 0.
    """
    raise NotImplementedError("attainable_gflops")


def smallest_compute_bound_tile(n: int, peak_gflops: float, bandwidth_gbs: float) -> int:
    """The smallest tile dividing n for which the tiled n x n kernel is compute-bound on this
    machine: its arithmetic intensity reaches the ridge point peak_gflops / bandwidth_gbs.

    Raise ValueError if no tile (not even tile = n) gets there, or on arguments out of range.
    """
    raise NotImplementedError("smallest_compute_bound_tile")
