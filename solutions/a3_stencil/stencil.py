"""Assignment a3 — reference solution (instructors only; never released)."""

from __future__ import annotations

import numbers

import numpy as np
from numba import cuda, float64, njit, prange

TILE = 16  # the GPU blur: each block computes a TILE x TILE patch of the output with TILE x TILE threads
HALO = 1  # a 3x3 stencil reaches one pixel beyond the patch on every side
PATCH = TILE + 2 * HALO  # side of a block's shared tile: its patch and the halo around it

# --------------------------------------------------------------------------------------------
# Task 1 — blur: a 3x3 stencil with clamped edges
# --------------------------------------------------------------------------------------------


@njit
def blur_serial(image, out):
    """Serial reference. Writes the 3x3 binomial blur of the 2-D float64 `image` into `out` (a
    float64 array of the same shape) and returns nothing:

        out[i, j] = sum over di, dj in {-1, 0, 1} of  w(di) * w(dj) * image[i + di, j + dj] / 16

    with w(0) = 2 and w(-1) = w(1) = 1 (weights 1 2 1 / 2 4 2 / 1 2 1). Boundary rule: a neighbour
    outside the image is replaced by the nearest pixel inside it (indices are clamped to
    [0, rows - 1] and [0, cols - 1]: the edge pixels are replicated outwards)."""
    rows, cols = image.shape
    for i in range(rows):
        for j in range(cols):
            acc = 0.0
            for di in range(-1, 2):
                r = min(max(i + di, 0), rows - 1)
                for dj in range(-1, 2):
                    c = min(max(j + dj, 0), cols - 1)
                    acc += (2 - abs(di)) * (2 - abs(dj)) * image[r, c]
            out[i, j] = acc / 16.0


@njit(parallel=True)
def blur_cpu(image, out):
    """Rows in parallel; inside a row the three source rows are walked left to right (contiguous
    memory), the interior without any clamping and the two edge columns apart."""
    rows, cols = image.shape
    for i in prange(rows):
        up = image[max(i - 1, 0)]
        mid = image[i]
        down = image[min(i + 1, rows - 1)]
        dst = out[i]
        for j in range(cols):
            left = max(j - 1, 0)
            right = min(j + 1, cols - 1)
            acc = up[left] + 2.0 * up[j] + up[right]
            acc += 2.0 * mid[left] + 4.0 * mid[j] + 2.0 * mid[right]
            acc += down[left] + 2.0 * down[j] + down[right]
            dst[j] = acc / 16.0


@cuda.jit
def blur_kernel(image, out):
    tile = cuda.shared.array((PATCH, PATCH), float64)
    rows, cols = image.shape
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y  # x: along a row (contiguous), y: down the columns
    top = cuda.blockIdx.y * TILE - HALO  # image row of tile row 0
    left = cuda.blockIdx.x * TILE - HALO  # image column of tile column 0
    # Cooperative load: the block's TILE*TILE threads sweep the (TILE+2)^2 tile in row-major order,
    # so neighbouring threads read neighbouring pixels of a row (coalesced). Clamped indices give
    # the boundary rule for free.
    for k in range(ty * TILE + tx, PATCH * PATCH, TILE * TILE):
        r = min(max(top + k // PATCH, 0), rows - 1)
        c = min(max(left + k % PATCH, 0), cols - 1)
        tile[k // PATCH, k % PATCH] = image[r, c]
    cuda.syncthreads()
    i, j = top + HALO + ty, left + HALO + tx
    if i < rows and j < cols:
        acc = 0.0
        for di in range(3):
            for dj in range(3):
                acc += (2 - abs(di - 1)) * (2 - abs(dj - 1)) * tile[ty + di, tx + dj]
        out[i, j] = acc / 16.0


def blur_gpu(image):
    rows, cols = image.shape
    out = cuda.device_array((rows, cols), dtype=np.float64)
    grid = ((cols + TILE - 1) // TILE, (rows + TILE - 1) // TILE)  # x over columns, y over rows
    blur_kernel[grid, (TILE, TILE)](image, out)
    return out


# --------------------------------------------------------------------------------------------
# Task 2 — traffic: counting memory traffic (plain Python)
# --------------------------------------------------------------------------------------------


def _check_int(name: str, value: int, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")


def loads_per_output(tile: int, radius: int) -> float:
    _check_int("tile", tile, 1)
    _check_int("radius", radius, 0)
    return (tile + 2 * radius) ** 2 / tile**2


def tiled_loads(rows: int, cols: int, tile: int, radius: int) -> int:
    _check_int("rows", rows, 1)
    _check_int("cols", cols, 1)
    _check_int("tile", tile, 1)
    _check_int("radius", radius, 0)
    blocks = -(-rows // tile) * -(-cols // tile)
    return int(blocks * (tile + 2 * radius) ** 2)


def warp_segments(stride: int, itemsize: int = 8, warp: int = 32, segment: int = 128) -> int:
    _check_int("stride", stride, 0)
    _check_int("itemsize", itemsize, 1)
    _check_int("warp", warp, 1)
    _check_int("segment", segment, 1)
    touched: set[int] = set()
    for t in range(warp):
        start = t * stride * itemsize
        touched.update(range(start // segment, (start + itemsize - 1) // segment + 1))
    return len(touched)
