"""Public tests for a7: run them with `grader test a7`.

The hidden tests used for the final grade check the same things on more inputs: 2-D and 3-D,
uniform and clustered points from a seed you cannot see, points exactly on cell borders and pairs
exactly r apart, everything in one cell, empty cells, duplicate points, a cell's points handed over
in another order, a hash map close to full, keys that share a home slot and wrap around the end of
the table, and many threads inserting at once.
"""

import numpy as np

from grader.perf import grade_cpu_speedup, grade_gpu_speedup
from grader.testkit import assert_array_close, assert_race_free, grade

EMPTY = -1
HASH_MULT = 2654435761

# ------------------------------------------------------------------------- inputs


def _points(n, dim, per_cell, seed=0, r=1.0):
    """n points uniform in a cube (square) sized so that a cell of edge r holds ~per_cell of them."""
    side = r * max(1.0, (n / per_cell) ** (1.0 / dim))
    return np.random.default_rng(seed).uniform(0.0, side, (n, dim))


def _grid(reference, points, r):
    origin, dims = reference.grid_of(points, r)
    order, starts = reference.sort_serial(points, r, origin, dims)
    return origin, dims, order, starts


# ------------------------------------------------------------------------- checks


def _host_pair(gpu, got, what, names):
    """A GPU function's two results, fetched to the host."""
    assert isinstance(got, tuple) and len(got) == 2, f"{what} should return a tuple {names}, got {type(got).__name__}"
    return gpu.to_host(got[0]), gpu.to_host(got[1])


def _check_sort(got, want, what):
    """`starts` exactly; `order` a permutation holding the same points in each cell (any order within a cell)."""
    assert isinstance(got, tuple) and len(got) == 2, f"{what} should return a tuple (order, starts), got {type(got).__name__}"
    order, starts = got
    want_order, want_starts = want
    assert_array_close(starts, want_starts, what=f"{what}: starts")
    if type(order) is not np.ndarray or order.dtype != np.int64 or order.shape != want_order.shape:
        assert_array_close(order, want_order, what=f"{what}: order")  # names the type, dtype or shape
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
        raise AssertionError(f"{what}: order lists the wrong points for cell {c} (order[starts[{c}]:starts[{c + 1}]])")


def _check_counts(got, want, what):
    """Neighbour counts, exactly, with the likely cause when they are off."""
    if type(got) is np.ndarray and got.shape == want.shape and got.dtype == want.dtype and not np.array_equal(got, want):
        wrong = np.flatnonzero(got != want)
        more, less = int((got > want).sum()), int((got < want).sum())
        if np.array_equal(got, want + 1):
            cause = "every count is one too many: a point is not its own neighbour (skip j == i)"
        elif less:
            cause = (
                "neighbours missed: every cell around the point's cell counts, the first and last on each axis too, "
                "and a point exactly r away is a neighbour"
            )
        else:
            cause = "counted too many: only squared distances <= r * r count, each neighbour once"
        raise AssertionError(
            f"{what}: {wrong.size} of {got.size} counts wrong ({less} too small, {more} too large); "
            f"first at point {wrong[0]}: {got[wrong[0]]}, expected {want[wrong[0]]}; {cause}"
        )
    assert_array_close(got, want, what=what)


def _check_map(got, keys, capacity, what):
    """A hash map as cellmap_serial describes it: every key once, with its count, on its probe path."""
    assert isinstance(got, tuple) and len(got) == 2, f"{what} should return (table_keys, table_counts), got {type(got).__name__}"
    tk, tc = got
    for name, a in (("table_keys", tk), ("table_counts", tc)):
        if type(a) is not np.ndarray or a.dtype != np.int64 or a.shape != (capacity,):
            assert_array_close(a, np.zeros(capacity, np.int64), what=f"{what}: {name}")  # names type, dtype or shape
    uniq, mult = np.unique(keys, return_counts=True)
    want = dict(zip(uniq.tolist(), mult.tolist(), strict=True))
    where = {}
    for s in range(capacity):
        k = int(tk[s])
        if k == EMPTY:
            assert tc[s] == 0, f"{what}: slot {s} is EMPTY but its count is {tc[s]}"
            continue
        assert k in want, f"{what}: slot {s} holds {k}, which is not one of the keys (the table starts all EMPTY)"
        assert k not in where, (
            f"{what}: key {k} sits in two slots ({where[k]} and {s}): two inserts claimed a slot for the same key; "
            "looking at a slot and claiming it must be one step (under the slot's lock, or one compare-and-swap)"
        )
        where[k] = s
        assert tc[s] == want[k], f"{what}: key {k} counted {tc[s]} times, inserted {want[k]} times"
        home = ((k % capacity) * HASH_MULT) % capacity
        p = home
        while p != s:
            assert tk[p] != EMPTY, (
                f"{what}: key {k} sits in slot {s} but slot {p}, between its home slot {home} and there, is EMPTY: "
                "a lookup stops at the first EMPTY slot and would miss it"
            )
            p = p + 1 if p + 1 < capacity else 0
    lost = [k for k in want if k not in where]
    assert not lost, f"{what}: key {lost[0]} ({len(lost)} of {len(want)} keys) is not in the table: lost on a collision?"


# ------------------------------------------------------------------------- task sort


@grade(task="sort", part="cpu", points=1)
def test_sort_cpu_matches_serial(impl, reference):
    p = _points(200, 2, 3, seed=1)
    origin, dims = reference.grid_of(p, 1.0)
    # First a traced run: prange threads that write the same counts or the same place of `order` are found on any machine.
    assert_race_free(impl.sort_cpu, p, 1.0, origin, dims)
    p = _points(20_000, 3, 4, seed=2)
    origin, dims = reference.grid_of(p, 1.0)
    want = reference.sort_serial(p, 1.0, origin, dims)
    _check_sort(impl.sort_cpu(p, 1.0, origin, dims), want, "sort_cpu (20000 3-D points)")


@grade(task="sort", part="gpu", points=1)
def test_sort_gpu_matches_serial(impl, reference, gpu):
    p = _points(300, 3, 3, seed=3)
    origin, dims = reference.grid_of(p, 1.0)
    got = _host_pair(gpu, impl.sort_gpu(gpu.to_device(p), 1.0, origin, dims), "sort_gpu", "(order, starts)")
    _check_sort(got, reference.sort_serial(p, 1.0, origin, dims), "sort_gpu (300 3-D points)")


# ------------------------------------------------------------------------- task neighbours


@grade(task="neighbours", part="cpu", points=1)
def test_neighbours_cpu_matches_serial(impl, reference):
    p = _points(150, 2, 3, seed=4)
    assert_race_free(impl.neighbours_cpu, p, 1.0, *_grid(reference, p, 1.0))
    for dim, n in ((2, 5000), (3, 20_000)):
        p = _points(n, dim, 4, seed=5 + dim)
        g = _grid(reference, p, 1.0)
        want = reference.neighbours_serial(p, 1.0, *g)
        _check_counts(impl.neighbours_cpu(p, 1.0, *g), want, f"neighbours_cpu ({n} {dim}-D points)")


@grade(task="neighbours", part="gpu", points=1)
def test_neighbours_gpu_matches_serial(impl, reference, gpu):
    p = _points(200, 3, 3, seed=8)
    origin, dims, order, starts = _grid(reference, p, 1.0)
    d = gpu.to_device
    got = gpu.to_host(impl.neighbours_gpu(d(p), 1.0, origin, dims, d(order), d(starts)))
    _check_counts(got, reference.neighbours_serial(p, 1.0, origin, dims, order, starts), "neighbours_gpu (200 3-D points)")


def _timed_points(perf, seed):
    return _points(perf.size, perf.params["dim"], perf.params["per_cell"], seed=seed)


def _pipeline(grid_of, sort, search):
    """The whole count for one input: grid, sort, search (timing redraws a few points each round,
    so the grid and the sort are made again for every call)."""

    def run(p):
        origin, dims = grid_of(p, 1.0)
        order, starts = sort(p, 1.0, origin, dims)
        return search(p, 1.0, origin, dims, order, starts)

    return run


@grade(task="neighbours", part="cpu", kind="performance", points=3)
def test_neighbours_cpu_speedup(impl, reference, solution, spec, cores, grading):
    perf = spec.part("neighbours", "cpu").performance
    grade_cpu_speedup(
        grading,
        perf,
        cores,
        baseline=_pipeline(reference.grid_of, reference.sort_serial, reference.neighbours_serial),
        candidate=_pipeline(reference.grid_of, reference.sort_serial, impl.neighbours_cpu),
        inputs=[_timed_points(perf, s) for s in range(2)],
        reference=_pipeline(reference.grid_of, reference.sort_serial, solution.neighbours_cpu) if solution else None,
    )


@grade(task="neighbours", part="gpu", kind="performance", points=2)
def test_neighbours_gpu_speedup(impl, reference, spec, gpu, grading):
    gpu.require_real_gpu()
    perf = spec.part("neighbours", "gpu").performance

    def on_gpu(p):  # host points in, device counts out: the copy up, the sort and the search timed
        origin, dims = reference.grid_of(p, 1.0)
        d = gpu.to_device(p)
        order, starts = impl.sort_gpu(d, 1.0, origin, dims)
        return impl.neighbours_gpu(d, 1.0, origin, dims, order, starts)

    grade_gpu_speedup(
        grading,
        perf,
        gpu,
        baseline=_pipeline(reference.grid_of, reference.sort_serial, reference.neighbours_serial),
        candidate=on_gpu,
        inputs=[_timed_points(perf, s) for s in range(2)],
        copies_included=True,
    )


# ------------------------------------------------------------------------- task cellmap


def _keys(m, distinct, seed=0, spread=1 << 40):
    rng = np.random.default_rng(seed)
    pool = rng.choice(spread, size=distinct, replace=False)
    return pool[rng.integers(0, distinct, m)].astype(np.int64)


@grade(task="cellmap", part="cpu", points=1)
def test_cellmap_locked_matches_serial(impl):
    keys = _keys(3000, 400, seed=9)
    for workers in (1, 2, 4):
        _check_map(impl.cellmap_locked(keys, 512, workers), keys, 512, f"cellmap_locked (3000 keys, {workers} workers)")


@grade(task="cellmap", part="gpu", points=1)
def test_cellmap_gpu_matches_serial(impl, gpu):
    keys = _keys(300, 60, seed=10)
    got = _host_pair(gpu, impl.cellmap_gpu(gpu.to_device(keys), 97), "cellmap_gpu", "(table_keys, table_counts)")
    _check_map(got, keys, 97, "cellmap_gpu (300 keys)")


def _same_map(gpu):
    """The timed check: the same keys with the same counts (the slots may differ)."""

    def check(got, want):
        tk, tc = (gpu.to_host(a) for a in got)
        wk, wc = want
        a, b = tk != EMPTY, wk != EMPTY
        assert a.sum() == b.sum(), f"timed result: {a.sum()} keys in the table, expected {b.sum()}"
        ia, ib = np.argsort(tk[a]), np.argsort(wk[b])
        assert np.array_equal(tk[a][ia], wk[b][ib]), "timed result: the table holds other keys"
        assert np.array_equal(tc[a][ia], wc[b][ib]), "timed result: wrong counts"

    return check


@grade(task="cellmap", part="gpu", kind="performance", points=2)
def test_cellmap_gpu_speedup(impl, reference, spec, gpu, grading):
    gpu.require_real_gpu()
    perf = spec.part("cellmap", "gpu").performance
    distinct = int(perf.size * perf.params["distinct_share"])
    capacity = int(distinct / perf.params["load"])
    grade_gpu_speedup(
        grading,
        perf,
        gpu,
        baseline=lambda k: reference.cellmap_serial(k, capacity),
        candidate=lambda k: impl.cellmap_gpu(k, capacity),
        inputs=[_keys(perf.size, distinct, seed=s) for s in range(2)],
        check=_same_map(gpu),
    )
