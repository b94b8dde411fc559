"""Assignment a4 — reference solution (instructors only; never released)."""

from __future__ import annotations

import numpy as np
from numba import cuda, float64, njit, prange

TILE = 8  # the GPU kernel's tiles are TILE x TILE, and so are its thread blocks (64 threads)

# Cache blocks of the CPU solution: each prange iteration owns BLOCK_I rows of C, and walks k in
# panels of BLOCK_K rows of B, so a panel fetched once is reused by all BLOCK_I rows while it is
# still in cache. (Blocking j as well was measured slower here: see benchmarks/matmul_blas.py.)
BLOCK_I = 8
BLOCK_K = 256

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
    """Blocks of BLOCK_I rows of C, one per prange iteration: each C element is written by exactly
    one thread, so nothing races. Inside a row block, k is blocked so one panel of B is reused from
    cache by every row of the block before the next panel is fetched. Every C[i, j] still adds its
    k products in increasing p, as the serial reference does."""
    n, k = A.shape
    m = B.shape[1]
    C = np.zeros((n, m), dtype=np.float64)
    for bi in prange((n + BLOCK_I - 1) // BLOCK_I):
        i0 = bi * BLOCK_I
        i1 = min(i0 + BLOCK_I, n)
        for k0 in range(0, k, BLOCK_K):
            k1 = min(k0 + BLOCK_K, k)
            for i in range(i0, i1):
                for p in range(k0, k1):
                    a = A[i, p]
                    for j in range(m):
                        C[i, j] += a * B[p, j]
    return C


@cuda.jit
def matmul_kernel(A, B, C):
    sA = cuda.shared.array((TILE, TILE), float64)
    sB = cuda.shared.array((TILE, TILE), float64)
    tx = cuda.threadIdx.x  # column inside the tile
    ty = cuda.threadIdx.y  # row inside the tile
    row = cuda.blockIdx.y * TILE + ty
    col = cuda.blockIdx.x * TILE + tx
    n = A.shape[0]
    k = A.shape[1]
    m = B.shape[1]
    acc = 0.0
    for t in range((k + TILE - 1) // TILE):
        p = t * TILE
        if row < n and p + tx < k:
            sA[ty, tx] = A[row, p + tx]
        else:
            sA[ty, tx] = 0.0
        if p + ty < k and col < m:
            sB[ty, tx] = B[p + ty, col]
        else:
            sB[ty, tx] = 0.0
        cuda.syncthreads()  # the whole tile is loaded before anyone reads it
        for q in range(TILE):
            acc += sA[ty, q] * sB[q, tx]
        cuda.syncthreads()  # everyone is done with this tile before the next one overwrites it
    if row < n and col < m:
        C[row, col] = acc


def matmul_gpu(A, B):
    n = A.shape[0]
    m = B.shape[1]
    C = cuda.device_array((n, m), dtype=np.float64)
    grid = ((m + TILE - 1) // TILE, (n + TILE - 1) // TILE)
    matmul_kernel[grid, (TILE, TILE)](A, B, C)
    return C


# --------------------------------------------------------------------------------------------
# Task 2 — intensity
# --------------------------------------------------------------------------------------------


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value > 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    return float(value)


def arithmetic_intensity(n: int, tile: int) -> float:
    """(n/tile)^2 blocks each load n/tile tiles of A and of B (tile^2 elements each): 2n^3/tile
    elements read, n^2 written, 8 bytes apiece, for 2n^3 flops."""
    n, tile = _positive_int(n, "n"), _positive_int(tile, "tile")
    if n % tile:
        raise ValueError(f"tile {tile} does not divide n = {n}")
    flops = 2.0 * n**3
    moved = 8.0 * (2.0 * n**3 / tile + n * n)
    return flops / moved


def attainable_gflops(intensity: float, peak_gflops: float, bandwidth_gbs: float) -> float:
    intensity = _positive(intensity, "intensity")
    peak, bandwidth = _positive(peak_gflops, "peak_gflops"), _positive(bandwidth_gbs, "bandwidth_gbs")
    return min(peak, intensity * bandwidth)


def smallest_compute_bound_tile(n: int, peak_gflops: float, bandwidth_gbs: float) -> int:
    n = _positive_int(n, "n")
    ridge = _positive(peak_gflops, "peak_gflops") / _positive(bandwidth_gbs, "bandwidth_gbs")
    for tile in range(1, n + 1):
        if n % tile == 0 and arithmetic_intensity(n, tile) >= ridge:
            return tile
    raise ValueError(f"no tile makes an {n} x {n} product compute-bound here (ridge point {ridge:.3g} flops/byte)")
