"""Assignment a5 — reference solution (instructors only; never released)."""

from __future__ import annotations

import math
import multiprocessing
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import shared_memory

import numpy as np
from numba import cuda, njit

TILE = 32  # the tiles task cuts the image into TILE x TILE pixel tiles, numbered row by row
THREADS_2D = (16, 16)  # a block of the Mandelbrot kernel: 16 x 16 pixels
THREADS_PER_BLOCK = 128  # 1-D kernels (pipeline, counter)

# --------------------------------------------------------------------------------------------
# Task 1 — tiles: uneven work, scheduled dynamically
# --------------------------------------------------------------------------------------------


def tile_count(height, width):
    """How many TILE x TILE tiles cover an image of height x width pixels (edge tiles may be smaller)."""
    return ((height + TILE - 1) // TILE) * ((width + TILE - 1) // TILE)


@njit(nogil=True)
def escape_tile(points, max_iter, out, tile):
    """Escape counts of tile number `tile` (row-major order) of the image, written into `out`.

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
    """Serial reference: escape counts (int32, shape points.shape[1:]) computed one tile after another."""
    height, width = points.shape[1], points.shape[2]
    out = np.empty((height, width), dtype=np.int32)
    for t in range(tile_count(height, width)):
        escape_tile(points, max_iter, out, t)
    return out


def tiles_static(points, max_iter, workers=2):
    """The course's STATIC schedule, for comparison: worker k gets the k-th contiguous block of tiles,
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
    """Dynamic schedule: the pool's workers take the next tile whenever they finish one."""
    height, width = points.shape[1], points.shape[2]
    out = np.empty((height, width), dtype=np.int32)

    def one(t):
        escape_tile(points, max_iter, out, t)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(one, range(tile_count(height, width))):
            pass  # re-raises a worker's exception here
    return out


def _tile_worker(in_name, out_name, shape, max_iter, counter, n):
    """One worker process: attach to the shared arrays, take tile numbers from the shared counter."""
    shm_in = shared_memory.SharedMemory(name=in_name)
    shm_out = shared_memory.SharedMemory(name=out_name)
    try:
        points = np.ndarray((2,) + shape, dtype=np.float64, buffer=shm_in.buf)
        out = np.ndarray(shape, dtype=np.int32, buffer=shm_out.buf)
        while True:
            with counter.get_lock():
                t = counter.value
                counter.value += 1
            if t >= n:
                break
            escape_tile(points, max_iter, out, t)
        del points, out  # no view may outlive the mapping
    finally:
        shm_in.close()
        shm_out.close()


def tiles_processes(points, max_iter, workers=2):
    """Processes over shared memory: the input is copied once into a shared block, workers write their
    tiles straight into a shared output block, and tiles are handed out dynamically by a shared counter."""
    shape = (points.shape[1], points.shape[2])
    n = tile_count(*shape)
    ctx = multiprocessing.get_context("fork")
    shm_in = shared_memory.SharedMemory(create=True, size=max(1, points.nbytes))
    shm_out = shared_memory.SharedMemory(create=True, size=max(1, shape[0] * shape[1] * 4))
    try:
        shared_in = np.ndarray(points.shape, dtype=np.float64, buffer=shm_in.buf)
        shared_in[...] = points
        counter = ctx.Value("q", 0)
        procs = [
            ctx.Process(target=_tile_worker, args=(shm_in.name, shm_out.name, shape, max_iter, counter, n))
            for _ in range(workers)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        failed = [p.exitcode for p in procs if p.exitcode != 0]
        if failed:
            raise RuntimeError(f"a worker process failed (exit code {failed[0]})")
        out = np.ndarray(shape, dtype=np.int32, buffer=shm_out.buf).copy()
        del shared_in
        return out
    finally:
        shm_in.close()
        shm_in.unlink()
        shm_out.close()
        shm_out.unlink()


@cuda.jit
def mandelbrot_kernel(points, max_iter, out):
    c, r = cuda.grid(2)  # x (fastest) runs along a row: neighbouring threads read neighbouring pixels
    if r < out.shape[0] and c < out.shape[1]:
        cr = points[0, r, c]
        ci = points[1, r, c]
        zr = 0.0
        zi = 0.0
        n = 0
        while n < max_iter and zr * zr + zi * zi <= 4.0:
            zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
            n += 1
        out[r, c] = n


def tiles_gpu(points, max_iter):
    height, width = points.shape[1], points.shape[2]
    out = cuda.device_array((height, width), dtype=np.int32)
    tx, ty = THREADS_2D
    blocks = ((width + tx - 1) // tx, (height + ty - 1) // ty)
    mandelbrot_kernel[blocks, THREADS_2D](points, max_iter, out)
    return out


# --------------------------------------------------------------------------------------------
# Task 2 — pipeline: load -> transform -> reduce over a stream of chunks
# --------------------------------------------------------------------------------------------


@njit(nogil=True)
def load_chunk(raw):
    """Stage 1: decode a chunk of raw readings into signal values (float64)."""
    out = np.empty(raw.shape[0], dtype=np.float64)
    for i in range(raw.shape[0]):
        x = raw[i]
        out[i] = math.exp(-0.5 * x * x) * math.cos(3.0 * x) + 0.1 * math.sin(x)
    return out


@njit(nogil=True)
def transform_chunk(values):
    """Stage 2: a non-linear filter, element by element (float64)."""
    out = np.empty(values.shape[0], dtype=np.float64)
    for i in range(values.shape[0]):
        x = values[i]
        out[i] = math.sin(x) + math.sin(2.0 * x) / 2.0 + math.sin(3.0 * x) / 3.0
    return out


@njit(nogil=True)
def reduce_chunk(values):
    """Stage 3: the chunk's energy, one float."""
    acc = 0.0
    for i in range(values.shape[0]):
        v = values[i]
        acc += math.log1p(v * v) + math.sqrt(1.0 + v * v)
    return acc


def pipeline_serial(chunks, load=load_chunk, transform=transform_chunk, reduce=reduce_chunk):
    """Serial reference: every chunk through the three stages, one after the other; the results in input order."""
    return [reduce(transform(load(chunk))) for chunk in chunks]


_DONE = object()  # the sentinel: "no more chunks"
_POLL_S = 0.05  # how often a waiting stage checks whether another stage failed


def _put(q, item, stop):
    """Wait for room in q (back-pressure), but give up when a stage has failed. True if put."""
    while not stop.is_set():
        try:
            q.put(item, timeout=_POLL_S)
            return True
        except queue.Full:
            pass
    return False


def _get(q, stop):
    """The next item of q; _DONE when a stage has failed and nothing more will come."""
    while True:
        try:
            return q.get(timeout=_POLL_S)
        except queue.Empty:
            if stop.is_set():
                return _DONE


def _source_stage(chunks, load, out, stop, errors):
    """Read the stream, load each chunk, pass it on; then the sentinel (also after a failure)."""
    try:
        for chunk in chunks:
            if not _put(out, load(chunk), stop):
                return
    except BaseException as exc:  # noqa: BLE001 - handed to the caller
        errors.append(exc)
        stop.set()
    finally:
        _put(out, _DONE, stop)


def _middle_stage(inbox, transform, out, stop, errors):
    """Transform every item until the sentinel, then pass the sentinel on."""
    try:
        while True:
            item = _get(inbox, stop)
            if item is _DONE:
                break
            if not _put(out, transform(item), stop):
                return
    except BaseException as exc:  # noqa: BLE001
        errors.append(exc)
        stop.set()
    finally:
        _put(out, _DONE, stop)


def pipeline_cpu(chunks, load=load_chunk, transform=transform_chunk, reduce=reduce_chunk, maxsize=4):
    """Loader and transformer threads feed the caller's reduce loop through bounded queues."""
    loaded: queue.Queue = queue.Queue(maxsize)
    transformed: queue.Queue = queue.Queue(maxsize)
    stop = threading.Event()  # set when any stage fails: every stage stops waiting
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_source_stage, args=(chunks, load, loaded, stop, errors), daemon=True),
        threading.Thread(target=_middle_stage, args=(loaded, transform, transformed, stop, errors), daemon=True),
    ]
    for t in threads:
        t.start()
    results = []
    try:
        while True:
            item = _get(transformed, stop)
            if item is _DONE:
                break
            results.append(reduce(item))
    except BaseException:
        stop.set()
        raise
    finally:
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    return results


@cuda.jit(device=True)
def chunk_value(x):
    """What the three stages do to one reading, as a device function: load, transform, reduce's term."""
    v = math.exp(-0.5 * x * x) * math.cos(3.0 * x) + 0.1 * math.sin(x)
    y = math.sin(v) + math.sin(2.0 * v) / 2.0 + math.sin(3.0 * v) / 3.0
    return math.log1p(y * y) + math.sqrt(1.0 + y * y)


@cuda.jit
def pipeline_kernel(raw, total):
    i = cuda.grid(1)
    if i < raw.shape[0]:
        cuda.atomic.add(total, 0, chunk_value(raw[i]))


def pipeline_gpu(chunks, nstreams=2):
    chunks = list(chunks)
    if not chunks:
        return []  # no streams, no zero-byte pinned allocation (its behaviour is not documented)
    streams = [cuda.stream() for _ in range(nstreams)]
    results = cuda.pinned_array(len(chunks), dtype=np.float64)
    zero = np.zeros(1, dtype=np.float64)
    keep = []  # device buffers stay alive until their stream is done
    for i, chunk in enumerate(chunks):
        s = streams[i % nstreams]
        raw = cuda.to_device(np.ascontiguousarray(chunk, dtype=np.float64), stream=s)
        total = cuda.to_device(zero, stream=s)
        blocks = max(1, (raw.shape[0] + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)
        pipeline_kernel[blocks, THREADS_PER_BLOCK, s](raw, total)
        total.copy_to_host(results[i : i + 1], stream=s)
        keep.append((raw, total))
    for s in streams:
        s.synchronize()
    return [float(v) for v in results]


# --------------------------------------------------------------------------------------------
# Task 3 — counter: one total, many threads
# --------------------------------------------------------------------------------------------


@njit(nogil=True)
def collatz_steps(values):
    """Total Collatz steps of the numbers in `values` (each >= 1): n -> n/2 or 3n+1 until 1. Releases the GIL."""
    total = 0
    for i in range(values.shape[0]):
        n = values[i]
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            total += 1
    return total


def counter_serial(chunks):
    """Serial reference: the Collatz steps of every chunk, added up (a Python int)."""
    total = 0
    for chunk in chunks:
        total += int(collatz_steps(chunk))
    return total


def counter_locked(chunks, workers=2):
    """One shared total behind a lock: each worker adds every chunk's steps to it as soon as it has them."""
    chunks = list(chunks)
    total = 0
    lock = threading.Lock()

    def work(k):
        nonlocal total
        for chunk in chunks[k::workers]:
            steps = int(collatz_steps(chunk))  # the slow part, outside the lock: threads overlap here
            with lock:
                total += steps

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(work, range(workers)):
            pass
    return total


def counter_cpu(chunks, workers=2):
    """Per-thread totals: each worker adds its chunks into a local variable and merges it once at the end."""
    chunks = list(chunks)
    total = [0]
    lock = threading.Lock()

    def work(k):
        mine = 0
        for chunk in chunks[k::workers]:
            mine += int(collatz_steps(chunk))
        with lock:
            total[0] += mine

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(work, range(workers)):
            pass
    return total[0]


@cuda.jit
def counter_kernel(values, total):
    i = cuda.grid(1)
    if i < values.shape[0]:
        n = values[i]
        steps = 0
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
        cuda.atomic.add(total, 0, steps)


def counter_gpu(values):
    total = cuda.to_device(np.zeros(1, dtype=np.int64))
    blocks = max(1, (values.shape[0] + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)
    counter_kernel[blocks, THREADS_PER_BLOCK](values, total)
    return int(total.copy_to_host()[0])
