"""Assignment a5 — coarse-grained parallelism: threads, processes, pipelines.

Fill in every function that raises NotImplementedError (and the kernel bodies). Keep the names,
signatures and decorators: the grader imports this file and calls them. The functions marked
"course code" (the serial references, the per-tile and per-chunk kernels, the static schedule) are
yours to read, run and call; the grader uses its own copies of them, so changing them here changes
nothing but your own results.

Check your work with `grader test a5` (see README.md for how each task is graded).
"""

from __future__ import annotations

import math
import multiprocessing  # noqa: F401  (for you: tiles_processes)
import queue  # noqa: F401  (for you: pipeline_cpu)
import threading
from concurrent.futures import ThreadPoolExecutor  # noqa: F401  (for you)
from multiprocessing import shared_memory  # noqa: F401  (for you: tiles_processes)

import numpy as np
from numba import cuda, njit

TILE = 32  # the tiles task cuts the image into TILE x TILE pixel tiles, numbered row by row
THREADS_2D = (16, 16)  # a block of the Mandelbrot kernel: 16 x 16 pixels
THREADS_PER_BLOCK = 128  # 1-D kernels (pipeline, counter)

# --------------------------------------------------------------------------------------------
# Task 1 — tiles: uneven work, scheduled dynamically
# --------------------------------------------------------------------------------------------


def tile_count(height, width):
    """Course code. How many TILE x TILE tiles cover an image of height x width pixels (edge tiles may be smaller)."""
    return ((height + TILE - 1) // TILE) * ((width + TILE - 1) // TILE)


@njit(nogil=True)
def escape_tile(points, max_iter, out, tile):
    """Course code. Escape counts of tile number `tile` (row-major order) of the image, written into `out`.

    points[0] and points[1] hold the real and imaginary parts of each pixel's point c. A pixel's
    count is how many steps of z -> z*z + c (from z = 0) keep |z| <= 2, at most max_iter. Points
    inside the Mandelbrot set cost max_iter steps, points far outside a single one: tiles of one
    image can differ in cost a hundredfold. Releases the GIL (nogil) while it runs.
    """
    height, width = out.shape
    across = (width + TILE - 1) // TILE
    r0 = (tile // across) * TILE
    c0 = (tile % across) * TILE
    for r in range(r0, min(r0 + TILE, height)):
        for c in range(c0, min(c0 + TILE, width)):
            cr = points[0, r, c]
            ci = points[1, r, c]
            zr = 0.0
            zi = 0.0
            n = 0
            while n < max_iter and zr * zr + zi * zi <= 4.0:
                zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
                n += 1
            out[r, c] = n


def tiles_serial(points, max_iter):
    """Course code, the serial reference: escape counts (int32, shape points.shape[1:]) computed one tile after another."""
    height, width = points.shape[1], points.shape[2]
    out = np.empty((height, width), dtype=np.int32)
    for t in range(tile_count(height, width)):
        escape_tile(points, max_iter, out, t)
    return out


def tiles_static(points, max_iter, workers=2):
    """Course code. The course's STATIC schedule, for comparison: worker k gets the k-th contiguous block of tiles,
    fixed before any work starts. The calling thread works on block 0 itself while threads do the others.
    When the expensive tiles all sit in one block, one worker does nearly all the work."""
    height, width = points.shape[1], points.shape[2]
    out = np.empty((height, width), dtype=np.int32)
    n = tile_count(height, width)

    def run_block(k):
        for t in range(k * n // workers, (k + 1) * n // workers):
            escape_tile(points, max_iter, out, t)

    helpers = [threading.Thread(target=run_block, args=(k,)) for k in range(1, workers)]
    for h in helpers:
        h.start()
    try:
        run_block(0)
    finally:
        for h in helpers:
            h.join()
    return out


def tiles_cpu(points, max_iter, workers=2):
    """Same result as tiles_serial, computed by `workers` threads with a DYNAMIC schedule: whenever a
    worker finishes a tile it takes the next one not yet started (a concurrent.futures thread pool
    does this for you if you give it one task per tile). escape_tile releases the GIL, so the
    threads really run at the same time."""
    raise NotImplementedError("tiles_cpu")


def tiles_processes(points, max_iter, workers=2):
    """Same result as tiles_serial, computed by `workers` PROCESSES (multiprocessing, "fork" context)
    over shared memory: put the points in a multiprocessing.shared_memory block, let every worker
    process write its tiles straight into a shared int32 output block, copy the result out, and close
    and unlink both blocks even when something fails. Hand the tiles out dynamically (a shared
    counter, e.g. multiprocessing's Value with its lock, or a multiprocessing queue of tile numbers)."""
    raise NotImplementedError("tiles_processes")


@cuda.jit
def mandelbrot_kernel(points, max_iter, out):
    """One thread per pixel on a 2-D grid: out[r, c] = the escape count of the point
    (points[0, r, c], points[1, r, c]), as escape_tile computes it. Let x = cuda.grid(2)[0] run along
    a row (the column index), and let threads outside the image do nothing."""
    pass  # replace with your kernel body


def tiles_gpu(points, max_iter):
    """Launch mandelbrot_kernel with THREADS_2D blocks covering the whole image (a device array of
    shape (2, height, width)) and return the int32 counts as a device array of shape (height, width)."""
    raise NotImplementedError("tiles_gpu")


# --------------------------------------------------------------------------------------------
# Task 2 — pipeline: load -> transform -> reduce over a stream of chunks
# --------------------------------------------------------------------------------------------


@njit(nogil=True)
def load_chunk(raw):
    """Course code. Stage 1: decode a chunk of raw readings into signal values (float64)."""
    out = np.empty(raw.shape[0], dtype=np.float64)
    for i in range(raw.shape[0]):
        x = raw[i]
        out[i] = math.exp(-0.5 * x * x) * math.cos(3.0 * x) + 0.1 * math.sin(x)
    return out


@njit(nogil=True)
def transform_chunk(values):
    """Course code. Stage 2: a non-linear filter, element by element (float64)."""
    out = np.empty(values.shape[0], dtype=np.float64)
    for i in range(values.shape[0]):
        x = values[i]
        out[i] = math.sin(x) + math.sin(2.0 * x) / 2.0 + math.sin(3.0 * x) / 3.0
    return out


@njit(nogil=True)
def reduce_chunk(values):
    """Course code. Stage 3: the chunk's energy, one float."""
    acc = 0.0
    for i in range(values.shape[0]):
        v = values[i]
        acc += math.log1p(v * v) + math.sqrt(1.0 + v * v)
    return acc


def pipeline_serial(chunks, load=load_chunk, transform=transform_chunk, reduce=reduce_chunk):
    """Course code, the serial reference: each chunk through the three stages in turn; the results in input order."""
    return [reduce(transform(load(chunk))) for chunk in chunks]


def pipeline_cpu(chunks, load=load_chunk, transform=transform_chunk, reduce=reduce_chunk, maxsize=4):
    """Same result as pipeline_serial, with the stages running at the same time in different threads,
    connected by queue.Queue(maxsize) queues (bounded: a fast stage must wait for a slow one).

    - `chunks` is any iterable, read once, in one thread (it may be a generator that is slow or raises);
    - every chunk's result appears exactly once, in input order; an empty stream gives [];
    - the end of the stream travels down the pipeline as a sentinel; every thread you start has
      ended when this function returns or raises;
    - an exception in any stage (or from the iterable) stops the whole pipeline and is raised
      again in the caller, the same exception object; nothing may hang.
    """
    raise NotImplementedError("pipeline_cpu")


@cuda.jit(device=True)
def chunk_value(x):
    """Course code. What the three stages do to one reading, as a device function: load, transform, reduce's term."""
    v = math.exp(-0.5 * x * x) * math.cos(3.0 * x) + 0.1 * math.sin(x)
    y = math.sin(v) + math.sin(2.0 * v) / 2.0 + math.sin(3.0 * v) / 3.0
    return math.log1p(y * y) + math.sqrt(1.0 + y * y)


@cuda.jit
def pipeline_kernel(raw, total):
    """One thread per reading of one chunk: add chunk_value(raw[i]) into total[0] with cuda.atomic.add
    (total starts at zero; threads past the end of the chunk add nothing)."""
    pass  # replace with your kernel body


def pipeline_gpu(chunks, nstreams=2):
    """The same results as pipeline_serial (up to rounding), one float per chunk in input order, with
    the chunks spread over `nstreams` CUDA streams (chunk i on stream i % nstreams): on its stream,
    copy the chunk to the device (cuda.to_device(..., stream=s)), launch pipeline_kernel
    (kernel[blocks, threads, s]) and copy the result back, so that one stream's copies overlap another
    stream's kernel. Synchronize every stream before reading the results. `chunks` holds 1-D float64
    host arrays (NumPy)."""
    raise NotImplementedError("pipeline_gpu")


# --------------------------------------------------------------------------------------------
# Task 3 — counter: one total, many threads
# --------------------------------------------------------------------------------------------


@njit(nogil=True)
def collatz_steps(values):
    """Course code. Total Collatz steps of the numbers in `values` (each >= 1): n -> n/2 or 3n+1 until 1. Releases the GIL."""
    total = 0
    for i in range(values.shape[0]):
        n = values[i]
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            total += 1
    return total


def counter_serial(chunks):
    """Course code, the serial reference: the Collatz steps of every chunk, added up (a Python int)."""
    total = 0
    for chunk in chunks:
        total += int(collatz_steps(chunk))
    return total


def counter_locked(chunks, workers=2):
    """Same result as counter_serial, from `workers` threads that all add into ONE shared total, each
    chunk's steps as soon as they are counted. Two threads must never read-modify-write the total at
    the same time: protect the update with a threading.Lock, and keep collatz_steps outside the lock."""
    raise NotImplementedError("counter_locked")


def counter_cpu(chunks, workers=2):
    """Same result as counter_serial, fast: each of `workers` threads adds up its own chunks in a local
    variable, and the threads' totals are combined once at the end (safely)."""
    raise NotImplementedError("counter_cpu")


@cuda.jit
def counter_kernel(values, total):
    """One thread per value: count the Collatz steps of values[i] and add them to total[0] with
    cuda.atomic.add (total starts at zero; threads past the end add nothing)."""
    pass  # replace with your kernel body


def counter_gpu(values):
    """Launch counter_kernel over `values` (a 1-D int64 device array) and return the total as a Python int."""
    raise NotImplementedError("counter_gpu")
