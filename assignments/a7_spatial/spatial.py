"""Assignment a7 — spatial hashing: neighbour counts on a uniform grid, a hash map of cells.

Fill in every function that raises NotImplementedError (and the kernel bodies). Keep the names,
signatures and decorators: the grader imports this file and calls them. The course code (the grid
helpers and the serial references `*_serial`) is yours to read, run and call; the grader times
your code against its own copy of it.

Check your work with `grader test a7` (see README.md for how each task is graded).
"""

from __future__ import annotations

import threading  # noqa: F401  (for cellmap_locked)

import numpy as np
from numba import cuda, get_num_threads, njit, prange  # noqa: F401  (prange, get_num_threads are for you)

THREADS_PER_BLOCK = 128  # every kernel of this assignment is launched with blocks of this many threads
EMPTY = -1  # a slot of the hash map that holds no key
HASH_MULT = 2654435761  # the hash map's multiplier: a key's home slot is ((key % capacity) * HASH_MULT) % capacity
MAX_CELLS = 1 << 26  # grid_of refuses a dense grid with more cells than this (use the hash map of occupied cells)

# --------------------------------------------------------------------------------------------
# Course code: the grid
# --------------------------------------------------------------------------------------------


@njit
def grid_of(points, r):
    """The uniform grid of cells of edge r over `points` ((N, D) float64, D = 2 or 3, N >= 1):
    `origin` (D,) float64, the smallest coordinate on each axis, and `dims` (D,) int64, the cells
    on each axis, int((max - origin) / r) + 1. Raises ValueError for r <= 0, no points, D not 2
    or 3, or more than MAX_CELLS cells."""
    n = points.shape[0]
    d = points.shape[1]
    if n == 0:
        raise ValueError("grid_of needs at least one point")
    if d != 2 and d != 3:
        raise ValueError("points must have 2 or 3 columns")
    if not (r > 0.0) or not np.isfinite(r):
        raise ValueError("r must be a positive finite number")
    origin = np.empty(d, dtype=np.float64)
    dims = np.empty(d, dtype=np.int64)
    cells = 1
    for k in range(d):
        lo = points[0, k]
        hi = points[0, k]
        for i in range(1, n):
            lo = min(lo, points[i, k])
            hi = max(hi, points[i, k])
        origin[k] = lo
        dims[k] = int((hi - lo) / r) + 1
        cells *= dims[k]
        if cells > MAX_CELLS:
            raise ValueError("too many grid cells for this r: use a larger r")
    return origin, dims


@njit
def cell_of(points, i, origin, r, dims):
    """The cell of point i: its coordinate on axis k is int((points[i, k] - origin[k]) / r), and
    the cell's number is x + dims[0] * (y + dims[1] * z) (x varies fastest; z = 0 in 2-D)."""
    c = 0
    for k in range(points.shape[1] - 1, -1, -1):
        c = c * dims[k] + int((points[i, k] - origin[k]) / r)
    return c


@njit
def cell_keys(points, r, origin, dims):
    """cell_of for every point: an (N,) int64 array of cell numbers (the keys of task 3)."""
    keys = np.empty(points.shape[0], dtype=np.int64)
    for i in range(points.shape[0]):
        keys[i] = cell_of(points, i, origin, r, dims)
    return keys


# --------------------------------------------------------------------------------------------
# Task 1 — sort: points sorted by cell (a counting sort)
# --------------------------------------------------------------------------------------------


@njit
def sort_serial(points, r, origin, dims):
    """Serial reference: a counting sort of the points by cell. Returns `order` (N,) int64, the
    point indices cell by cell (within a cell in increasing index), and `starts` (ncells + 1,)
    int64: the points of cell c are order[starts[c]:starts[c + 1]]."""
    n = points.shape[0]
    ncells = 1
    for k in range(dims.shape[0]):
        ncells *= dims[k]
    cell = np.empty(n, dtype=np.int64)
    starts = np.zeros(ncells + 1, dtype=np.int64)
    for i in range(n):  # map and histogram: counts kept one place to the right
        c = cell_of(points, i, origin, r, dims)
        cell[i] = c
        starts[c + 1] += 1
    for c in range(ncells):  # inclusive scan of the shifted counts: where each cell starts
        starts[c + 1] += starts[c]
    fill = starts[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):  # scatter: each point to the next free place of its cell
        order[fill[cell[i]]] = i
        fill[cell[i]] += 1
    return order, starts


@njit(parallel=True)
def sort_cpu(points, r, origin, dims):
    """Same result as sort_serial, with prange: `starts` exactly equal; `order` may list the
    points of a cell in any order (the tests compare each cell's points as a set). The steps:
    the cell of each point (a map), how many points each cell holds (a histogram: give each chunk
    of the points its own counts, as in a2), where each cell starts (a scan of the counts), and
    each point written to its place in `order` (a scatter: two threads must never take the same
    place, so give each chunk its own place in every cell before it scatters)."""
    raise NotImplementedError("sort_cpu")


@cuda.jit
def cell_kernel(points, r, origin, dims, cell, counts):
    """One thread per point i: cell[i] = the number of point i's cell (the formula of cell_of)
    and counts[cell[i]] += 1 with cuda.atomic.add. `origin`, `dims` are device copies of
    grid_of's arrays; `counts` starts at zero. Threads past the last point do nothing."""
    pass  # replace with your kernel body


@cuda.jit
def scatter_kernel(cell, fill, order):
    """One thread per point i: take the next free place of its cell, fill[cell[i]], moving it on
    by one in the same atomic step (cuda.atomic.add returns the old value), and write i there in
    `order`. `fill` starts as starts[:-1] (each cell's first place)."""
    pass  # replace with your kernel body


def sort_gpu(points, r, origin, dims):
    """sort_serial on the GPU: `points` is an (N, D) float64 device array (CuPy on a GPU, its
    stand-in under the simulator), `r` a float, `origin` and `dims` host NumPy arrays from grid_of.
    Launch cell_kernel, scan the counts into `starts` (on the host is fine: copy the counts back
    from a device array you made), launch scatter_kernel, and return (order, starts) as device
    arrays of int64. Within a cell `order` may hold the points in any order."""
    raise NotImplementedError("sort_gpu")


# --------------------------------------------------------------------------------------------
# Task 2 — neighbours: how many points lie within r of each point
# --------------------------------------------------------------------------------------------


@njit
def neighbours_serial(points, r, origin, dims, order, starts):
    """Serial reference: counts (N,) int64, counts[i] = how many points j != i have
    (points[i, 0] - points[j, 0])**2 + ... (summed over the axes in order) <= r * r, found by
    looking only in the 3 x 3 (2-D) or 3 x 3 x 3 (3-D) cells around point i's cell."""
    n = points.shape[0]
    d = points.shape[1]
    r2 = r * r
    nx = dims[0]
    ny = dims[1]
    nz = dims[2] if d == 3 else 1
    counts = np.zeros(n, dtype=np.int64)
    for i in range(n):
        cx = int((points[i, 0] - origin[0]) / r)
        cy = int((points[i, 1] - origin[1]) / r)
        cz = int((points[i, 2] - origin[2]) / r) if d == 3 else 0
        found = 0
        for z in range(max(cz - 1, 0), min(cz + 2, nz)):
            for y in range(max(cy - 1, 0), min(cy + 2, ny)):
                for x in range(max(cx - 1, 0), min(cx + 2, nx)):
                    c = x + nx * (y + ny * z)
                    for k in range(starts[c], starts[c + 1]):
                        j = order[k]
                        if j == i:
                            continue
                        dist2 = 0.0
                        for a in range(d):
                            t = points[i, a] - points[j, a]
                            dist2 += t * t
                        if dist2 <= r2:
                            found += 1
        counts[i] = found
    return counts


@njit(parallel=True)
def neighbours_cpu(points, r, origin, dims, order, starts):
    """Same counts as neighbours_serial (int64, exactly), with prange over the points. `order`
    and `starts` come from sort_serial (or any correct sort: a cell's points in any order)."""
    raise NotImplementedError("neighbours_cpu")


@cuda.jit
def neighbours_kernel(points, r, origin, dims, order, starts, counts):
    """One thread per point i: counts[i] = how many points j != i lie within r of it (squared
    distance <= r * r, as in neighbours_serial), looking only in the cells around point i's cell
    that exist (not past the first or last cell on any axis). Threads past the last point do nothing."""
    pass  # replace with your kernel body


def neighbours_gpu(points, r, origin, dims, order, starts):
    """neighbours_serial on the GPU: `points`, `order`, `starts` are device arrays (as sort_gpu
    returns them), `origin` and `dims` host arrays from grid_of. Launch neighbours_kernel and
    return the (N,) int64 counts as a device array."""
    raise NotImplementedError("neighbours_gpu")


# --------------------------------------------------------------------------------------------
# Task 3 — cellmap: a hash map of occupied cells, locked and lock-free
# --------------------------------------------------------------------------------------------


@njit
def cellmap_serial(keys, capacity):
    """Serial reference: open addressing with linear probing. `keys` (M,) int64, each >= 0 (a
    key may occur many times); `capacity` > the number of distinct keys. Key k's home slot is
    ((k % capacity) * HASH_MULT) % capacity; an insert walks from there (slot + 1, wrapping to 0
    after the last) to the first slot holding k or EMPTY, claims it if EMPTY, and adds 1 to its
    count. Returns `table_keys` and `table_counts`, (capacity,) int64: EMPTY and 0 where unused.
    Raises ValueError for a negative key or a table too small."""
    table_keys = np.full(capacity, EMPTY, dtype=np.int64)
    table_counts = np.zeros(capacity, dtype=np.int64)
    for i in range(keys.shape[0]):
        key = keys[i]
        if key < 0:
            raise ValueError("keys must be >= 0")
        slot = ((key % capacity) * HASH_MULT) % capacity
        placed = False
        for _ in range(capacity):
            if table_keys[slot] == EMPTY:
                table_keys[slot] = key
            if table_keys[slot] == key:
                table_counts[slot] += 1
                placed = True
                break
            slot += 1
            if slot == capacity:
                slot = 0
        if not placed:
            raise ValueError("the table is full: capacity must exceed the number of distinct keys")
    return table_keys, table_counts


def cellmap_locked(keys, capacity, workers=2):
    """The same map as cellmap_serial, built by `workers` threads (threading.Thread) that share
    one table and insert their share of `keys` into it. Give every slot its own threading.Lock
    (or one lock per group of slots): looking at a slot and claiming it (or adding to its count)
    must happen while holding that slot's lock, so two threads never claim one slot and no
    increment is lost. Which slot a key ends up in may differ from cellmap_serial's (it depends
    on which thread came first), but every key must sit on its probe path: between its home slot
    and its slot no slot is EMPTY. An exception in a thread must reach the caller."""
    raise NotImplementedError("cellmap_locked")


@cuda.jit
def insert_kernel(keys, table_keys, table_counts):
    """One thread per key, lock-free: walk from the key's home slot and claim the first EMPTY
    slot with cuda.atomic.cas(table_keys, slot, EMPTY, key), which swaps only if the slot still
    holds EMPTY and returns what it held; stop where it held EMPTY or this key, and add 1 to that
    slot's count with cuda.atomic.add. Touch `table_keys` only through atomics in this kernel.
    Threads past the last key do nothing."""
    pass  # replace with your kernel body


def cellmap_gpu(keys, capacity):
    """cellmap_serial on the GPU: `keys` is a 1-D int64 device array (possibly empty). Make the
    table on the device (EMPTY keys, zero counts), launch insert_kernel, and return
    (table_keys, table_counts) as device arrays of int64."""
    raise NotImplementedError("cellmap_gpu")
