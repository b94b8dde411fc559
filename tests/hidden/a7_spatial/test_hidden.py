"""Hidden tests for a7 (instructors only; never released).

Points from a seed students cannot see, 2-D and 3-D, uniform and clustered, with negative
coordinates too; points on a lattice of the cell edge (every point on a cell border, neighbours
exactly r apart) and on a quarter-cell lattice with r = 1.25 (pairs exactly r apart on a slant:
0.75^2 + 1^2 = 1.25^2, exact in binary); everything in one cell; two clumps with empty cells
between; duplicate points; one and two points; a cell's points handed over in another order;
inputs left untouched; for every prange function a traced run first (`assert_race_free`: the same
verdict in every run) and a timed contention test after it (for code the trace cannot follow).
Hash maps: keys from the cells of clustered points, keys that share a home slot, home slots at the
end of the table (probes wrap around), tables one slot larger than the distinct keys, one key
inserted many times, large keys, many threads inserting at once while the interpreter switches
threads as often as it can. Failure messages do not reveal expected values.
"""

import sys
import time

import numpy as np
from numba import config as numba_config
from numba import get_num_threads, set_num_threads

from grader.testkit import assert_array_close, assert_race_free, contention_seconds, grade, hidden_rng

EMPTY = -1
HASH_MULT = 2654435761
CONTENTION_S = {"sort": 2.0, "neighbours": 2.0, "cellmap": 1.5}  # per contention test, untraced code
CONTENTION_ROUNDS = 3
_wall = time.perf_counter  # bound before any student code is imported
_MOST_THREADS = numba_config.NUMBA_NUM_THREADS  # what the grading worker may start, read before any student code

# ------------------------------------------------------------------------- inputs


def _uniform(rng, n, dim, per_cell, r=1.0, low=0.0):
    side = r * max(1.0, (n / per_cell) ** (1.0 / dim))
    return rng.uniform(low, low + side, (n, dim))


def _clustered(rng, n, dim, r=1.0):
    """Tight clumps of ~40 points (many to a cell) in a box of ~20 cells a side, a tenth of the points scattered."""
    centers = rng.uniform(0.0, 20.0 * r, (max(2, n // 40), dim))
    pts = centers[rng.integers(0, centers.shape[0], n)] + rng.normal(0.0, 0.6 * r, (n, dim))
    scattered = rng.random(n) < 0.1
    pts[scattered] = rng.uniform(0.0, 20.0 * r, (int(scattered.sum()), dim))
    return pts


def _lattice(rng, n, dim, step, sites):
    """n points on a lattice of `step` with `sites` places a side: cell borders, exact distances, duplicates."""
    return rng.integers(0, sites, (n, dim)).astype(np.float64) * step


def _random_cases(sizes, salt):
    """(label, points, r) for each size: uniform 2-D and 3-D (one of them below zero), clustered 3-D."""
    rng = hidden_rng(salt)
    for n in sizes:
        yield f"{n} uniform 2-D points", _uniform(rng, n, 2, 3.0), 1.0
        yield f"{n} uniform 3-D points, negative coordinates", _uniform(rng, n, 3, 2.0, r=0.7, low=-5.0), 0.7
        yield f"{n} clustered 3-D points", _clustered(rng, n, 3), 1.0


def _edge_cases(salt, small=False):
    """(label, points, r): the inputs where a grid goes wrong. `small`: sizes the CUDA simulator affords."""
    rng = hidden_rng(salt)
    m = 60 if small else 400
    yield "one point", rng.uniform(-1, 1, (1, 3)), 0.5
    yield "two points exactly r apart", np.array([[0.0, 0.0], [0.0, 1.5]]), 1.5
    yield "points on cell borders, neighbours exactly r apart (2-D)", _lattice(rng, m, 2, 1.0, 12), 1.0
    yield "points on cell borders, neighbours exactly r apart (3-D)", _lattice(rng, m, 3, 1.0, 6), 1.0
    yield "pairs exactly r apart on a slant (2-D)", _lattice(rng, m, 2, 0.25, 24), 1.25
    yield "pairs exactly r apart on a slant (3-D)", _lattice(rng, m, 3, 0.25, 10), 1.25
    yield "every point in one cell", rng.uniform(0.0, 0.9, (m // 2, 3)), 1.0
    yield "r larger than the whole box", rng.uniform(0.0, 1.0, (m // 2, 2)), 50.0
    far = np.concatenate([rng.uniform(0.0, 1.5, (m // 2, 3)), rng.uniform(8.0, 9.5, (m // 2, 3))])
    yield "two clumps with empty cells between", far, 1.0
    dup = rng.uniform(0.0, 4.0, (m // 4, 2))
    yield "duplicate points", np.concatenate([dup, dup, dup[: m // 8]]), 1.0
    line = np.zeros((m // 2, 3))
    line[:, 0] = np.arange(m // 2) * 0.5
    yield "points on a line, one cell thick", line, 1.0


def _grid(reference, points, r):
    origin, dims = reference.grid_of(points, r)
    order, starts = reference.sort_serial(points, r, origin, dims)
    return origin, dims, order, starts


def _shuffled_within_cells(order, starts, rng):
    """The same sort with each cell's points in another order (any order within a cell is correct)."""
    out = order.copy()
    for c in np.flatnonzero(np.diff(starts) > 1):
        out[starts[c] : starts[c + 1]] = rng.permutation(out[starts[c] : starts[c + 1]])
    return out


# ------------------------------------------------------------------------- checks


def _host_pair(gpu, got, what, names):
    assert isinstance(got, tuple) and len(got) == 2, f"{what} should return a tuple {names}, got {type(got).__name__}"
    return gpu.to_host(got[0]), gpu.to_host(got[1])


def _check_sort(got, want, what):
    """`starts` exactly; `order` a permutation holding the same points in each cell."""
    assert isinstance(got, tuple) and len(got) == 2, f"{what} should return a tuple (order, starts), got {type(got).__name__}"
    order, starts = got
    want_order, want_starts = want
    assert_array_close(starts, want_starts, what=f"{what}: starts", reveal=False)
    if type(order) is not np.ndarray or order.dtype != np.int64 or order.shape != want_order.shape:
        assert_array_close(order, want_order, what=f"{what}: order", reveal=False)
    n = order.size
    seen = np.bincount(order[(order >= 0) & (order < n)], minlength=n)
    if (seen != 1).any():
        twice = np.flatnonzero(seen > 1)
        hint = f" (point {twice[0]} appears {seen[twice[0]]} times: two threads wrote to one place?)" if twice.size else ""
        raise AssertionError(f"{what}: order is not a permutation of 0..{n - 1}{hint}")
    cell = np.repeat(np.arange(want_starts.size - 1), np.diff(want_starts))
    a, b = np.sort(cell * n + order), np.sort(cell * n + want_order)
    if not np.array_equal(a, b):
        c = int(b[np.argmax(a != b)] // n)
        raise AssertionError(f"{what}: order lists the wrong points for cell {c}")


def _check_counts(got, want, what):
    """Neighbour counts, exactly; the message gives positions and the likely cause, not expected values."""
    if type(got) is np.ndarray and got.shape == want.shape and got.dtype == want.dtype and not np.array_equal(got, want):
        wrong = np.flatnonzero(got != want)
        more, less = int((got > want).sum()), int((got < want).sum())
        if np.array_equal(got, want + 1):
            cause = "every count one too many: a point is not its own neighbour"
        elif less:
            cause = "neighbours missed (cells at the ends of an axis? points exactly r apart?)"
        else:
            cause = "counted too many"
        raise AssertionError(
            f"{what}: {wrong.size} of {got.size} counts wrong ({less} too small, {more} too large); "
            f"first at point {wrong[0]}; {cause}"
        )
    assert_array_close(got, want, what=what, reveal=False)


def _check_map(got, keys, capacity, what):
    """A hash map as cellmap_serial describes it: every key once, with its count, on its probe path."""
    assert isinstance(got, tuple) and len(got) == 2, f"{what} should return (table_keys, table_counts), got {type(got).__name__}"
    tk, tc = got
    for name, a in (("table_keys", tk), ("table_counts", tc)):
        if type(a) is not np.ndarray or a.dtype != np.int64 or a.shape != (capacity,):
            assert_array_close(a, np.zeros(capacity, np.int64), what=f"{what}: {name}", reveal=False)
    uniq, mult = np.unique(keys, return_counts=True)
    want = dict(zip(uniq.tolist(), mult.tolist(), strict=True))
    where = {}
    for s in np.flatnonzero((tk != EMPTY) | (tc != 0)).tolist():
        k = int(tk[s])
        assert k != EMPTY, f"{what}: slot {s} is EMPTY but its count is not 0"
        assert k in want, f"{what}: slot {s} holds {k}, which is not one of the keys"
        assert k not in where, (
            f"{what}: key {k} sits in two slots ({where[k]} and {s}): two inserts claimed a slot for the same key; "
            "looking at a slot and claiming it must be one step"
        )
        where[k] = s
        assert tc[s] == want[k], (
            f"{what}: the count of key {k} (slot {s}) is wrong ({'lost' if tc[s] < want[k] else 'extra'} increments)"
        )
        home = ((k % capacity) * HASH_MULT) % capacity
        p = home
        while p != s:
            assert tk[p] != EMPTY, (
                f"{what}: key {k} sits in slot {s} but slot {p}, between its home slot {home} and there, is EMPTY: "
                "a lookup stops at the first EMPTY slot and would miss it"
            )
            p = p + 1 if p + 1 < capacity else 0
    lost = [k for k in want if k not in where]
    assert not lost, f"{what}: {len(lost)} of {len(want)} keys are not in the table (lost on a collision?)"


# ------------------------------------------------------------------------- contention


def _thread_counts():
    """The usual numba thread count and more, up to what the grading worker may start."""
    usual = get_num_threads()
    return list(dict.fromkeys([usual, min(2 * usual, _MOST_THREADS), _MOST_THREADS]))


def _hammer(cases, check, seconds):
    """Call ``check(case, calls)`` over and over for ``seconds`` (and at least twice per case and
    thread count), cycling through the cases and numba thread counts; the usual count restored after."""
    usual = get_num_threads()
    counts = _thread_counts()
    calls, started = 0, _wall()
    try:
        while calls < 2 * len(cases) * len(counts) or _wall() - started < seconds:
            set_num_threads(counts[(calls // len(cases)) % len(counts)])
            check(cases[calls % len(cases)], calls + 1)
            calls += 1
    finally:
        set_num_threads(usual)


class _FastSwitching:
    """The interpreter hands the GIL over as often as it can: a look-then-claim not under one lock gets interrupted."""

    def __enter__(self):
        self.before = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)

    def __exit__(self, *exc):
        sys.setswitchinterval(self.before)


# ------------------------------------------------------------------------- task sort


def _sort_race_free(impl, reference):
    """Traced runs: prange threads sharing counts or places in `order` are found whatever the load."""
    rng = hidden_rng(90)
    runs = []
    for pts, r in ((_uniform(rng, 160, 2, 3.0), 1.0), (rng.uniform(0.0, 0.9, (100, 3)), 1.0)):
        origin, dims = reference.grid_of(pts, r)
        runs.append(assert_race_free(impl.sort_cpu, pts, r, origin, dims))
    return all(runs)  # a list: every input traced even after one the trace could not judge


@grade(task="sort", part="cpu", points=1)
def test_sort_cpu_random_and_edge_inputs(impl, reference, spec):
    _sort_race_free(impl, reference)
    cases = list(_random_cases(spec.part("sort", "cpu").sizes, salt=100)) + list(_edge_cases(salt=101))
    kept = []
    for label, pts, r in cases:
        before = pts.copy()
        origin, dims = reference.grid_of(pts, r)
        got = impl.sort_cpu(pts, r, origin, dims)
        _check_sort(got, reference.sort_serial(pts, r, origin, dims), f"sort_cpu ({label})")
        assert np.array_equal(pts, before), "sort_cpu must not modify its input"
        kept.append((got[0], got[0].copy(), label))
    for got, then, label in kept:
        assert np.array_equal(got, then), f"sort_cpu ({label}): the order it returned changed during later calls"


@grade(task="sort", part="cpu", points=1)
def test_sort_cpu_loses_no_place_under_contention(impl, reference):
    """A traced run, then many points in very few cells, sorted again and again with more threads than usual."""
    traced = _sort_race_free(impl, reference)
    rng = hidden_rng(102)
    cases = []
    for pts, r in ((rng.uniform(0.0, 1.9, (400_000, 2)), 1.0), (rng.uniform(0.0, 0.9, (200_003, 3)), 1.0)):
        origin, dims = reference.grid_of(pts, r)
        cases.append((pts, r, origin, dims, reference.sort_serial(pts, r, origin, dims)))

    def check(case, call):
        pts, r, origin, dims, want = case
        _check_sort(impl.sort_cpu(pts, r, origin, dims), want, f"sort_cpu ({pts.shape[0]} points in few cells, call {call})")

    _hammer(cases, check, contention_seconds(CONTENTION_S["sort"], traced))


@grade(task="sort", part="gpu", points=1)
def test_sort_gpu_random_inputs(impl, reference, spec, gpu):
    for label, pts, r in _random_cases(gpu.sizes(spec.part("sort", "gpu")), salt=110):
        origin, dims = reference.grid_of(pts, r)
        got = _host_pair(gpu, impl.sort_gpu(gpu.to_device(pts), r, origin, dims), "sort_gpu", "(order, starts)")
        _check_sort(got, reference.sort_serial(pts, r, origin, dims), f"sort_gpu ({label})")


@grade(task="sort", part="gpu", points=1)
def test_sort_gpu_edge_inputs(impl, reference, gpu):
    for label, pts, r in _edge_cases(salt=111, small=gpu.simulated):
        origin, dims = reference.grid_of(pts, r)
        got = _host_pair(gpu, impl.sort_gpu(gpu.to_device(pts), r, origin, dims), "sort_gpu", "(order, starts)")
        _check_sort(got, reference.sort_serial(pts, r, origin, dims), f"sort_gpu ({label})")


# ------------------------------------------------------------------------- task neighbours


def _neighbours_race_free(impl, reference):
    """Traced runs: prange threads updating each other's counts are found whatever the load."""
    rng = hidden_rng(91)
    runs = []
    for pts, r in ((_uniform(rng, 120, 2, 2.0), 1.0), (_lattice(rng, 100, 3, 1.0, 5), 1.0)):
        runs.append(assert_race_free(impl.neighbours_cpu, pts, r, *_grid(reference, pts, r)))
    return all(runs)


@grade(task="neighbours", part="cpu", points=1)
def test_neighbours_cpu_random_inputs(impl, reference, spec):
    _neighbours_race_free(impl, reference)
    for label, pts, r in _random_cases(spec.part("neighbours", "cpu").sizes, salt=200):
        before = pts.copy()
        g = _grid(reference, pts, r)
        _check_counts(impl.neighbours_cpu(pts, r, *g), reference.neighbours_serial(pts, r, *g), f"neighbours_cpu ({label})")
        assert np.array_equal(pts, before), "neighbours_cpu must not modify its input"


@grade(task="neighbours", part="cpu", points=1)
def test_neighbours_cpu_borders_exact_r_one_cell_duplicates(impl, reference):
    _neighbours_race_free(impl, reference)
    rng = hidden_rng(201)
    for label, pts, r in _edge_cases(salt=202):
        origin, dims, order, starts = _grid(reference, pts, r)
        want = reference.neighbours_serial(pts, r, origin, dims, order, starts)
        _check_counts(impl.neighbours_cpu(pts, r, origin, dims, order, starts), want, f"neighbours_cpu ({label})")
        other = _shuffled_within_cells(order, starts, rng)
        got = impl.neighbours_cpu(pts, r, origin, dims, other, starts)
        _check_counts(got, want, f"neighbours_cpu ({label}, each cell's points in another order)")


@grade(task="neighbours", part="cpu", points=1)
def test_neighbours_cpu_under_contention(impl, reference):
    """A traced run, then dense points counted again and again with more threads than usual."""
    traced = _neighbours_race_free(impl, reference)
    rng = hidden_rng(203)
    cases = []
    for pts, r in ((_uniform(rng, 60_000, 2, 6.0), 1.0), (_clustered(rng, 30_000, 3), 1.0)):
        g = _grid(reference, pts, r)
        cases.append((pts, r, g, reference.neighbours_serial(pts, r, *g)))

    def check(case, call):
        pts, r, g, want = case
        _check_counts(impl.neighbours_cpu(pts, r, *g), want, f"neighbours_cpu ({pts.shape[0]} dense points, call {call})")

    _hammer(cases, check, contention_seconds(CONTENTION_S["neighbours"], traced))


def _neighbours_on_gpu(impl, gpu, pts, r, origin, dims, order, starts):
    d = gpu.to_device
    return gpu.to_host(impl.neighbours_gpu(d(pts), r, origin, dims, d(order), d(starts)))


@grade(task="neighbours", part="gpu", points=1)
def test_neighbours_gpu_random_inputs(impl, reference, spec, gpu):
    for label, pts, r in _random_cases(gpu.sizes(spec.part("neighbours", "gpu")), salt=210):
        g = _grid(reference, pts, r)
        _check_counts(
            _neighbours_on_gpu(impl, gpu, pts, r, *g), reference.neighbours_serial(pts, r, *g), f"neighbours_gpu ({label})"
        )


@grade(task="neighbours", part="gpu", points=1)
def test_neighbours_gpu_borders_exact_r_one_cell_duplicates(impl, reference, gpu):
    rng = hidden_rng(211)
    for label, pts, r in _edge_cases(salt=212, small=gpu.simulated):
        origin, dims, order, starts = _grid(reference, pts, r)
        want = reference.neighbours_serial(pts, r, origin, dims, order, starts)
        other = _shuffled_within_cells(order, starts, rng)
        _check_counts(_neighbours_on_gpu(impl, gpu, pts, r, origin, dims, other, starts), want, f"neighbours_gpu ({label})")


# ------------------------------------------------------------------------- task cellmap


def _home(key, capacity):
    return ((key % capacity) * HASH_MULT) % capacity


def _colliding(rng, homes, per_home, capacity, at_end=False):
    """`per_home` keys for each of `homes` home slots (k and k + j * capacity share one); with
    `at_end`, the home slots are the table's last ones, so their probes wrap around to slot 0."""
    if at_end:
        first = {}
        for k in range(capacity):
            first.setdefault(_home(k, capacity), k)
        base = np.array([first[h] for h in range(capacity - homes, capacity)])
    else:
        base = rng.choice(capacity, size=homes, replace=False)
    return (base[:, None] + capacity * rng.integers(1, 1 << 20, (homes, per_home))).ravel().astype(np.int64)


def _map_random(sizes, salt):
    """(label, keys, capacity): keys drawn from a large range, each about four times, a table twice their number."""
    rng = hidden_rng(salt)
    for m in sizes:
        distinct = max(1, m // 4)
        pool = rng.choice(1 << 40, size=distinct, replace=False)
        yield f"{m} keys, {distinct} distinct", pool[rng.integers(0, distinct, m)], 2 * distinct + 1


def _map_edges(reference, salt, small=False):
    """(label, keys, capacity): what a hash map must survive."""
    rng = hidden_rng(salt)
    pts = _clustered(rng, 300 if small else 3000, 3)
    origin, dims = reference.grid_of(pts, 1.0)
    cells = reference.cell_keys(pts, 1.0, origin, dims)
    yield "the cells of clustered points", cells, 2 * np.unique(cells).size + 3
    cap = 61 if small else 257
    yield "keys sharing home slots", np.repeat(_colliding(rng, 4, 6, cap), 3), cap
    keys = _colliding(rng, 3, 5, cap, at_end=True)
    yield "home slots at the end of the table (probes wrap around)", np.concatenate([keys, keys]), cap
    keys = rng.choice(1 << 30, size=cap - 1, replace=False).astype(np.int64)
    yield "a table one slot larger than the distinct keys", np.concatenate([keys, keys[::3]]), cap
    yield "one key many times", np.full(cap * 2, int(rng.integers(0, 1 << 40)), dtype=np.int64), cap
    yield "key 0 and huge keys", np.array([0, (1 << 62) + 5, 0, (1 << 62) + 5, 1 << 50], dtype=np.int64), 7


def _map_on_gpu(impl, gpu, keys, capacity):
    got = impl.cellmap_gpu(gpu.to_device(keys), capacity)
    return _host_pair(gpu, got, "cellmap_gpu", "(table_keys, table_counts)")


@grade(task="cellmap", part="cpu", points=1)
def test_cellmap_locked_random_and_edge_keys(impl, reference, spec):
    cases = list(_map_random(spec.part("cellmap", "cpu").sizes, salt=300)) + list(_map_edges(reference, salt=302))
    for label, keys, cap in cases:
        before = keys.copy()
        for workers in (1, 2, 5):
            _check_map(impl.cellmap_locked(keys, cap, workers), keys, cap, f"cellmap_locked ({label}, {workers} workers)")
        assert np.array_equal(keys, before), "cellmap_locked must not modify its input"


@grade(task="cellmap", part="cpu", points=1)
def test_cellmap_locked_under_contention(impl):
    """Sixteen and eight threads inserting keys that crowd two (then eight) home slots, so they all
    probe the same long runs of slots and race for the same EMPTY slot at their end, while the
    interpreter switches threads as often as it can. A look-then-claim not under one lock, with a
    function call between the two (where the interpreter may switch threads), was caught in 20 of
    20 runs of this test on the 2-core VM under load."""
    rng = hidden_rng(301)
    cap = 2048
    cases = [np.repeat(_colliding(rng, 2, 100, cap), 2), np.repeat(_colliding(rng, 8, 40, cap), 2)]
    for keys in cases:
        rng.shuffle(keys)
    start, rounds = time.monotonic(), 0
    with _FastSwitching():
        while rounds < CONTENTION_ROUNDS or time.monotonic() - start < CONTENTION_S["cellmap"]:
            rounds += 1
            for k, keys in enumerate(cases):
                for workers in (16, 8):
                    got = impl.cellmap_locked(keys, cap, workers)
                    _check_map(got, keys, cap, f"cellmap_locked (case {k + 1}, {workers} workers, round {rounds})")


@grade(task="cellmap", part="gpu", points=1)
def test_cellmap_gpu_random_keys(impl, spec, gpu):
    for label, keys, cap in _map_random(gpu.sizes(spec.part("cellmap", "gpu")), salt=310):
        _check_map(_map_on_gpu(impl, gpu, keys, cap), keys, cap, f"cellmap_gpu ({label})")
    none = np.zeros(0, dtype=np.int64)
    _check_map(_map_on_gpu(impl, gpu, none, 5), none, 5, "cellmap_gpu (no keys)")


@grade(task="cellmap", part="gpu", points=1)
def test_cellmap_gpu_collisions_full_table_wraparound(impl, reference, gpu):
    for label, keys, cap in _map_edges(reference, salt=311, small=gpu.simulated):
        _check_map(_map_on_gpu(impl, gpu, keys, cap), keys, cap, f"cellmap_gpu ({label})")
