"""Neighbour counts on a uniform grid against SciPy's k-d tree, and what the hash map's locks cost: the numbers in a7's handout.

    python benchmarks/spatial_vs_kdtree.py [--repeats 5] [--quick]

Needs SciPy (`pip install -e '.[bench]'`). For each point set, in one run on the same points: the
a7 serial reference (grid_of + sort_serial + neighbours_serial), the reference solution on every
numba thread (grid_of + sort_cpu + neighbours_cpu) and on one, and `scipy.spatial.cKDTree` (tree
built, then `query_ball_point(points, r, return_length=True)`, minus each point itself) on one
worker and on all. Each time is the median of --repeats calls after a warm-up call, in alternating
order; every result is checked against the serial one. The point sets: uniform 3-D and 2-D with a
few points to a cell (the grid's home ground), clustered 3-D (dense clumps), and a large r (~60
points to a cell: every cell search reads many points that are too far), plus a sparse one (a few
points spread over a huge box: most cells empty, the dense grid's cost is its cells, the hash map's
is its points).

Then the hash map of task 3: inserting cell keys with cellmap_serial (compiled, one thread), the
reference cellmap_locked (Python threads, a lock per slot) on 1, 2 and 4 threads, and with one
lock for the whole table; time per insert.

Load average before and after is printed: two-thread numbers mean little on a busy machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
from numba import get_num_threads, set_num_threads

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _uniform(rng, n, dim, per_cell, r=1.0):
    side = r * max(1.0, (n / per_cell) ** (1.0 / dim))
    return rng.uniform(0.0, side, (n, dim))


def _clustered(rng, n, dim, r=1.0):
    centers = rng.uniform(0.0, 60.0 * r, (max(2, n // 400), dim))
    return centers[rng.integers(0, centers.shape[0], n)] + rng.normal(0.0, 1.0 * r, (n, dim))


def point_sets(rng, quick):
    n = 20_000 if quick else 50_000
    return [
        ("uniform 3-D, ~4 to a cell", _uniform(rng, n, 3, 4.0), 1.0),
        ("uniform 2-D, ~4 to a cell", _uniform(rng, n, 2, 4.0), 1.0),
        ("clustered 3-D (clumps of ~400)", _clustered(rng, n, 3), 1.0),
        ("uniform 3-D, large r (~60 to a cell)", _uniform(rng, n // 4, 3, 60.0), 1.0),
        ("sparse 3-D: 2000 points, 100^3 cells", rng.uniform(0.0, 100.0, (2000, 3)), 1.0),
    ]


def _median_times(fns, repeats):
    """Each function once to warm up, then `repeats` rounds in rotating order; median seconds each."""
    outs = [f() for f in fns]
    times = [[] for _ in fns]
    for k in range(repeats):
        for j in range(len(fns)):
            i = (j + k) % len(fns)
            t = time.perf_counter()
            fns[i]()
            times[i].append(time.perf_counter() - t)
    return [statistics.median(t) for t in times], outs


def neighbour_table(ref, sol, repeats, quick):
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(7)
    threads = get_num_threads()

    def grid(search_mod, sort, search, nthreads):
        def run(p, r):
            set_num_threads(nthreads)
            try:
                origin, dims = ref.grid_of(p, r)
                order, starts = sort(p, r, origin, dims)
                return search(p, r, origin, dims, order, starts)
            finally:
                set_num_threads(threads)

        return run

    def kdtree(workers):
        def run(p, r):
            return cKDTree(p).query_ball_point(p, r, return_length=True, workers=workers) - 1

        return run

    ways = [
        ("serial reference", grid(ref, ref.sort_serial, ref.neighbours_serial, threads)),
        ("grid, 1 thread", grid(sol, sol.sort_cpu, sol.neighbours_cpu, 1)),
        (f"grid, {threads} threads", grid(sol, sol.sort_cpu, sol.neighbours_cpu, threads)),
        ("cKDTree, 1 worker", kdtree(1)),
        (f"cKDTree, {threads} workers", kdtree(-1)),
    ]
    print(f"\n{'points':40s} " + " ".join(f"{name:>20s}" for name, _ in ways) + "   kd(all)/grid(all)")
    for label, p, r in point_sets(rng, quick):
        fns = [lambda f=f, p=p, r=r: f(p, r) for _, f in ways]
        times, outs = _median_times(fns, repeats)
        for (name, _), out in zip(ways, outs, strict=True):
            assert np.array_equal(out, outs[0]), f"{name} disagrees with the serial reference on {label}"
        mean = outs[0].mean()
        cells = ""
        if label.startswith("sparse"):
            origin, dims = ref.grid_of(p, r)
            cells = f" ({int(np.prod(dims))} cells)"
        cols = " ".join(f"{1e3 * t:17.1f} ms" for t in times)
        print(f"{label[:40]:40s} {cols}   {times[4] / times[2]:.2f}   [{p.shape[0]} points, {mean:.1f} neighbours{cells}]")


def cellmap_table(ref, sol, repeats, quick):
    rng = np.random.default_rng(8)
    m = 5_000 if quick else 20_000
    pts = _clustered(rng, m, 3)
    origin, dims = ref.grid_of(pts, 1.0)
    keys = ref.cell_keys(pts, 1.0, origin, dims)
    distinct = np.unique(keys).size
    capacity = 2 * distinct + 1

    def one_lock(keys, capacity, workers):
        table_keys = np.full(capacity, ref.EMPTY, dtype=np.int64)
        table_counts = np.zeros(capacity, dtype=np.int64)
        guard = threading.Lock()

        def insert_all(share):
            for key in share:
                with guard:
                    slot = ((key % capacity) * ref.HASH_MULT) % capacity
                    while table_keys[slot] != ref.EMPTY and table_keys[slot] != key:
                        slot = slot + 1 if slot + 1 < capacity else 0
                    table_keys[slot] = key
                    table_counts[slot] += 1

        ts = [threading.Thread(target=insert_all, args=(keys[w::workers].tolist(),)) for w in range(workers)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return table_keys, table_counts

    ways = [
        ("cellmap_serial (compiled)", lambda: ref.cellmap_serial(keys, capacity)),
        ("lock per slot, 1 thread", lambda: sol.cellmap_locked(keys, capacity, 1)),
        ("lock per slot, 2 threads", lambda: sol.cellmap_locked(keys, capacity, 2)),
        ("lock per slot, 4 threads", lambda: sol.cellmap_locked(keys, capacity, 4)),
        ("one lock, 2 threads", lambda: one_lock(keys, capacity, 2)),
    ]
    times, outs = _median_times([f for _, f in ways], max(3, repeats // 2))
    want = outs[0]
    print(f"\nhash map: {m} keys ({distinct} distinct cells of clustered points), capacity {capacity}")
    for (name, _), t, out in zip(ways, times, outs, strict=True):
        a, b = out[0] != ref.EMPTY, want[0] != ref.EMPTY
        same = np.array_equal(np.sort(out[0][a]), np.sort(want[0][b])) and out[1].sum() == m
        verdict = "ok" if same else "WRONG"
        print(f"  {name:28s} {1e3 * t:9.1f} ms  {1e9 * t / m:9.0f} ns per insert  {t / times[0]:8.1f}x serial  {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smaller point sets (a smoke test)")
    args = parser.parse_args()
    ref = _load(ROOT / "assignments" / "a7_spatial" / "spatial.py", "a7_course")
    sol = _load(ROOT / "solutions" / "a7_spatial" / "spatial.py", "a7_solution")
    print(f"load average before: {os.getloadavg()[0]:.2f}; {get_num_threads()} numba threads; Python {sys.version.split()[0]}")
    neighbour_table(ref, sol, args.repeats, args.quick)
    cellmap_table(ref, sol, args.repeats, args.quick)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
