"""Assignment a3 — stencils and memory.

Fill in every function that raises NotImplementedError (and the kernel body). Keep the names,
signatures and decorators: the grader imports this file and calls them. The serial reference
(`blur_serial`) is yours to read and run; the grader times your code against its own copy of it.

Check your work with `grader test a3` (see README.md for how each task is graded).
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (for the output blur_gpu allocates)
from numba import cuda, float64, njit, prange  # noqa: F401  (prange, float64 are for you)

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
    """Same result as blur_serial (up to rounding), written into `out`, with the rows shared out
    among all cores by `prange`. Keep the inner loop running along a row (the contiguous axis of a
    row-major array) and keep the clamped-edge boundary rule. `out` may hold anything when you
    get it: write every element. Return nothing and leave `image` unchanged."""
    raise NotImplementedError("blur_cpu")


@cuda.jit
def blur_kernel(image, out):
    """Block (bx, by) computes out[by*TILE : by*TILE+TILE, bx*TILE : bx*TILE+TILE] with TILE x TILE
    threads (threadIdx.x along a row, threadIdx.y down a column). First the block's threads load
    the (TILE+2) x (TILE+2) patch of `image` it needs (its tile plus a one-pixel halo, clamped at
    the image's edges) into cuda.shared.array((PATCH, PATCH), float64), together: then
    cuda.syncthreads(); then each thread computes its output pixel from shared memory. Threads
    whose pixel lies outside the image help loading but write nothing."""
    pass  # replace with your kernel body


def blur_gpu(image):
    """Launch blur_kernel over `image` (a 2-D float64 device array: CuPy on a GPU, NumPy under the
    simulator) on a 2-D grid of TILE x TILE blocks covering the whole image, and return the blurred
    image as a new float64 device array of the same shape (cuda.device_array)."""
    raise NotImplementedError("blur_gpu")


# --------------------------------------------------------------------------------------------
# Task 2 — traffic: counting memory traffic (plain Python)
# --------------------------------------------------------------------------------------------


def loads_per_output(tile: int, radius: int) -> float:
    """Global-memory loads per output pixel of a tiled stencil kernel: each block computes a
    tile x tile patch of outputs and loads the (tile + 2*radius) x (tile + 2*radius) input patch
    it needs (the tile and its halo) exactly once. For example loads_per_output(16, 1) is
    324 / 256 = 1.265625, against 9 loads per output for a kernel without a tile.

    Raise ValueError unless tile is an integer >= 1 and radius an integer >= 0.
    """
    raise NotImplementedError("loads_per_output")


def tiled_loads(rows: int, cols: int, tile: int, radius: int) -> int:
    """Total global-memory loads of that tiled kernel over a rows x cols image: one block per tile
    of the grid that covers the image (ceil(rows / tile) x ceil(cols / tile) blocks), each loading
    a full (tile + 2*radius)^2 patch, also at the image's edges (clamped pixels are loaded again).

    Raise ValueError unless rows, cols and tile are integers >= 1 and radius an integer >= 0.
    """
    raise NotImplementedError("tiled_loads")


def warp_segments(stride: int, itemsize: int = 8, warp: int = 32, segment: int = 128) -> int:
    """How many memory segments one warp's load touches: thread t (0 <= t < warp) reads the
    `itemsize`-byte element at byte address t * stride * itemsize, and memory is served in aligned
    segments of `segment` bytes (segment k holds the bytes k*segment ... (k+1)*segment - 1). Count
    the distinct segments holding at least one byte that some thread reads. For example
    warp_segments(1) is 2 (32 neighbouring float64 values: 256 bytes) and warp_segments(1000) is
    32 (every thread in a segment of its own).

    Raise ValueError unless stride is an integer >= 0 and itemsize, warp and segment integers >= 1.
    """
    raise NotImplementedError("warp_segments")
