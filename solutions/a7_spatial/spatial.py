"""Assignment a7 — reference solution (instructors only; never released)."""

from __future__ import annotations

import threading

import numpy as np
from numba import cuda, get_num_threads, njit, prange

THREADS_PER_BLOCK = 128  # every kernel of this assignment is launched with blocks of this many threads
EMPTY = -1  # a slot of the hash map that holds no key
HASH_MULT = 2654435761  # the hash map's multiplier: a key's home slot is ((key % capacity) * HASH_MULT) % capacity
MAX_CELLS = 1 << 26  # grid_of refuses a dense grid with more cells than this (use the hash map of occupied cells)

# --------------------------------------------------------------------------------------------
# Course code: the grid (identical in the stub)
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
    n = points.shape[0]
    ncells = 1
    for k in range(dims.shape[0]):
        ncells *= dims[k]
    chunks = max(1, min(get_num_threads() * 2, n))
    cell = np.empty(n, dtype=np.int64)
    local = np.zeros((chunks, ncells), dtype=np.int64)  # one histogram per chunk
    for ch in prange(chunks):
        for i in range(ch * n // chunks, (ch + 1) * n // chunks):
            c = cell_of(points, i, origin, r, dims)
            cell[i] = c
            local[ch, c] += 1
    starts = np.zeros(ncells + 1, dtype=np.int64)
    for c in range(ncells):
        total = 0
        for ch in range(chunks):
            total += local[ch, c]
        starts[c + 1] = starts[c] + total
    # each chunk's first place in every cell: the cell's start plus what earlier chunks put there
    for c in prange(ncells):
        at = starts[c]
        for ch in range(chunks):
            count = local[ch, c]
            local[ch, c] = at
            at += count
    order = np.empty(n, dtype=np.int64)
    for ch in prange(chunks):
        for i in range(ch * n // chunks, (ch + 1) * n // chunks):
            c = cell[i]
            order[local[ch, c]] = i
            local[ch, c] += 1
    return order, starts


@cuda.jit
def cell_kernel(points, r, origin, dims, cell, counts):
    i = cuda.grid(1)
    if i < points.shape[0]:
        c = 0
        for k in range(points.shape[1] - 1, -1, -1):
            c = c * dims[k] + int((points[i, k] - origin[k]) / r)
        cell[i] = c
        cuda.atomic.add(counts, c, 1)


@cuda.jit
def scatter_kernel(cell, fill, order):
    i = cuda.grid(1)
    if i < cell.shape[0]:
        at = cuda.atomic.add(fill, cell[i], 1)  # returns the old value: this thread's place
        order[at] = i


def sort_gpu(points, r, origin, dims):
    n = points.shape[0]
    ncells = int(np.prod(dims))
    d_origin = cuda.to_device(np.ascontiguousarray(origin, dtype=np.float64))
    d_dims = cuda.to_device(np.ascontiguousarray(dims, dtype=np.int64))
    cell = cuda.device_array(n, dtype=np.int64)
    counts = cuda.to_device(np.zeros(ncells, dtype=np.int64))
    blocks = (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    cell_kernel[blocks, THREADS_PER_BLOCK](points, r, d_origin, d_dims, cell, counts)
    starts = np.zeros(ncells + 1, dtype=np.int64)
    np.cumsum(counts.copy_to_host(), out=starts[1:])  # the scan of the counts, on the host
    fill = cuda.to_device(starts[:-1].copy())
    order = cuda.device_array(n, dtype=np.int64)
    scatter_kernel[blocks, THREADS_PER_BLOCK](cell, fill, order)
    return order, cuda.to_device(starts)


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
    n = points.shape[0]
    d = points.shape[1]
    r2 = r * r
    nx = dims[0]
    ny = dims[1]
    nz = dims[2] if d == 3 else 1
    counts = np.zeros(n, dtype=np.int64)
    for s in prange(n):  # in cell order: neighbouring iterations read the same few cells
        i = order[s]
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
                        if j != i:
                            dist2 = 0.0
                            for a in range(d):
                                t = points[i, a] - points[j, a]
                                dist2 += t * t
                            if dist2 <= r2:
                                found += 1
        counts[i] = found
    return counts


@cuda.jit
def neighbours_kernel(points, r, origin, dims, order, starts, counts):
    i = cuda.grid(1)
    if i < points.shape[0]:
        d = points.shape[1]
        r2 = r * r
        nx = dims[0]
        ny = dims[1]
        nz = dims[2] if d == 3 else 1
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
                        if j != i:
                            dist2 = 0.0
                            for a in range(d):
                                t = points[i, a] - points[j, a]
                                dist2 += t * t
                            if dist2 <= r2:
                                found += 1
        counts[i] = found


def neighbours_gpu(points, r, origin, dims, order, starts):
    n = points.shape[0]
    d_origin = cuda.to_device(np.ascontiguousarray(origin, dtype=np.float64))
    d_dims = cuda.to_device(np.ascontiguousarray(dims, dtype=np.int64))
    counts = cuda.device_array(n, dtype=np.int64)
    blocks = (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    neighbours_kernel[blocks, THREADS_PER_BLOCK](points, r, d_origin, d_dims, order, starts, counts)
    return counts


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
    table_keys = np.full(capacity, EMPTY, dtype=np.int64)
    table_counts = np.zeros(capacity, dtype=np.int64)
    locks = [threading.Lock() for _ in range(capacity)]  # one per slot
    mine = [keys[w::workers].tolist() for w in range(workers)]
    failures = []

    def insert_all(share):
        try:
            for key in share:
                slot = ((key % capacity) * HASH_MULT) % capacity
                while True:
                    with locks[slot]:  # look and claim in one step: nobody else touches the slot meanwhile
                        held = table_keys[slot]
                        if held == EMPTY or held == key:
                            table_keys[slot] = key
                            table_counts[slot] += 1
                            break
                    slot = slot + 1 if slot + 1 < capacity else 0
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            failures.append(exc)

    threads = [threading.Thread(target=insert_all, args=(share,)) for share in mine]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return table_keys, table_counts


@cuda.jit
def insert_kernel(keys, table_keys, table_counts):
    i = cuda.grid(1)
    if i < keys.shape[0]:
        key = keys[i]
        capacity = table_keys.shape[0]
        slot = ((key % capacity) * HASH_MULT) % capacity
        for _ in range(capacity):
            held = cuda.atomic.cas(table_keys, slot, EMPTY, key)  # claims the slot only if it is EMPTY
            if held == EMPTY or held == key:
                cuda.atomic.add(table_counts, slot, 1)
                return
            slot += 1
            if slot == capacity:
                slot = 0


def cellmap_gpu(keys, capacity):
    table_keys = cuda.to_device(np.full(capacity, EMPTY, dtype=np.int64))
    table_counts = cuda.to_device(np.zeros(capacity, dtype=np.int64))
    m = keys.shape[0]
    if m > 0:
        blocks = (m + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
        insert_kernel[blocks, THREADS_PER_BLOCK](keys, table_keys, table_counts)
    return table_keys, table_counts
