"""Threads, processes, the GIL and nogil, side by side on this machine: the numbers quoted in a5's handout.

    python benchmarks/threads_vs_processes.py [--repeats 7]

Every line times the same amount of work done one way or another and prints the median of
`--repeats` runs (wall-clock); the ways compared in one block are timed in alternating rounds and
the ratio is the median of the per-round ratios. Run it on an otherwise idle machine: it measures what the machine
delivers right now, so a busy neighbour shows up as a smaller speedup. The compute probe line at
the top (the grader's own calibration kernel) says how much parallelism the machine gave meanwhile.

What it shows:
- a pure-Python loop in 2 threads is no faster than in 1 (the GIL lets one thread run Python at a time);
- the same loop compiled by numba in 2 threads: still no faster while the compiled code holds the
  GIL, about 2x once it is compiled with nogil=True;
- the pure-Python loop in 2 processes: about 2x, after paying for starting them;
- what starting a thread or a process costs, and moving an array to another process by pickling
  versus sharing it (multiprocessing.shared_memory);
- a static schedule against a dynamic one on uneven work (the a5 tiles, expensive ones in one half).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import shared_memory
from pathlib import Path

import numpy as np
from numba import njit

ROOT = Path(__file__).resolve().parents[1]
PY_WORK = 1_500_000  # iterations of the pure-Python loop per unit of work
NB_WORK = 15_000_000  # iterations of the compiled loop per unit of work
ARRAY_MB = 80


def python_loop(n: int) -> float:
    acc = 0.0
    for i in range(n):
        acc += math.sin(i * 1e-3)
    return acc


@njit
def numba_loop_gil(n):
    acc = 0.0
    for i in range(n):
        acc += math.sin(i * 1e-3)
    return acc


@njit(nogil=True)
def numba_loop_nogil(n):
    acc = 0.0
    for i in range(n):
        acc += math.sin(i * 1e-3)
    return acc


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def in_threads(fn, arg, workers: int) -> None:
    threads = [threading.Thread(target=fn, args=(arg,)) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def in_processes(ctx, fn, arg, workers: int) -> None:
    procs = [ctx.Process(target=fn, args=(arg,)) for _ in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()


def _nothing() -> None:
    pass


def _receive(conn) -> None:
    conn.recv()


def _attach(name: str, nbytes: int) -> None:
    shm = shared_memory.SharedMemory(name=name)
    view = np.ndarray((nbytes // 8,), dtype=np.float64, buffer=shm.buf)
    float(view[-1])
    del view
    shm.close()


def _send_by_pipe(ctx, data: np.ndarray) -> None:
    mine, theirs = ctx.Pipe()
    p = ctx.Process(target=_receive, args=(theirs,))
    p.start()
    mine.send(data)  # pickled, written through the pipe, unpickled in the child
    p.join()


def _send_by_shared_memory(ctx, data: np.ndarray) -> None:
    shm = shared_memory.SharedMemory(create=True, size=data.nbytes)
    try:
        np.ndarray(data.shape, dtype=data.dtype, buffer=shm.buf)[...] = data  # one copy, then only a name travels
        p = ctx.Process(target=_attach, args=(shm.name, data.nbytes))
        p.start()
        p.join()
    finally:
        shm.close()
        shm.unlink()


def compare(rows: list[tuple[str, object]], repeats: int) -> None:
    """Time the first entry (the baseline) and the others in alternating rounds; print median times
    and the median of the per-round ratios baseline / this, so a machine that changes speed between
    rounds moves both sides of each ratio alike."""
    times: list[list[float]] = [[] for _ in rows]
    for k in range(repeats):
        order = list(range(len(rows)))
        if k % 2:
            order.reverse()
        for i in order:
            t0 = time.perf_counter()
            rows[i][1]()
            times[i].append(time.perf_counter() - t0)
    for (label, _), mine in zip(rows, times, strict=True):
        ratio = statistics.median(b / m for b, m in zip(times[0], mine, strict=True))
        print(f"  {label:<58} {statistics.median(mine) * 1e3:9.2f} ms  {ratio:5.2f}x", flush=True)


def row(label: str, seconds: float, base: float | None = None) -> None:
    ratio = f"{base / seconds:5.2f}x" if base else ""
    print(f"  {label:<58} {seconds * 1e3:9.2f} ms  {ratio}".rstrip(), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    r = args.repeats
    sys.path.insert(0, str(ROOT))
    from grader.core.devices import usable_cores
    from grader.worker.calibration import ComputeProbe  # the grader's own capacity probe

    fork = mp.get_context("fork")
    spawn = mp.get_context("spawn")
    numba_loop_gil(10)
    numba_loop_nogil(10)
    probe = ComputeProbe()
    probe.serial()
    probe.parallel()
    capacity = median_time(probe.serial, r) / median_time(probe.parallel, r)
    print(f"{usable_cores()} usable cores; compute probe: {capacity:.2f}x on all cores (the machine's capacity now)\n")

    def capacity_again() -> None:
        now = median_time(probe.serial, r) / median_time(probe.parallel, r)
        print(f"\ncompute probe at the end: {now:.2f}x (either probe well below the core count: the machine was busy, rerun)")

    print("Two units of CPU work, done serially or shared by 2 workers (ratio: serial / this)")
    compare(
        [
            ("pure Python, 1 thread", lambda: [python_loop(PY_WORK) for _ in range(2)]),
            ("pure Python, 2 threads (the GIL: one at a time)", lambda: in_threads(python_loop, PY_WORK, 2)),
            ("pure Python, 2 processes (fork; start-up included)", lambda: in_processes(fork, python_loop, PY_WORK, 2)),
        ],
        r,
    )
    compare(
        [
            ("numba, 1 thread", lambda: [numba_loop_nogil(NB_WORK) for _ in range(2)]),
            ("numba holding the GIL, 2 threads", lambda: in_threads(numba_loop_gil, NB_WORK, 2)),
            ("numba nogil=True, 2 threads", lambda: in_threads(numba_loop_nogil, NB_WORK, 2)),
        ],
        r,
    )

    print("\nWhat starting a worker costs (start it, let it do nothing, wait for it)")
    row("a thread", median_time(lambda: in_threads(lambda _: None, None, 1), r))
    row("a process, fork", median_time(lambda: in_processes(fork, lambda _: None, None, 1), r))
    row(
        "a process, spawn (imports numpy and numba again)",
        median_time(lambda: in_processes(spawn, _nothing_arg, None, 1), 3),
    )
    with ThreadPoolExecutor(2) as pool:
        row("one task through a running thread pool (submit + result)", median_time(lambda: pool.submit(_nothing).result(), 50))

    data = np.random.default_rng(0).random(ARRAY_MB * 1024 * 1024 // 8)
    print(f"\nMoving {ARRAY_MB} MB to a new process (fork; its start-up included)")
    row("pickled through a pipe", median_time(lambda: _send_by_pipe(fork, data), r))
    row("shared memory: copied in once, the child attaches by name", median_time(lambda: _send_by_shared_memory(fork, data), r))

    sys.path.insert(0, str(ROOT / "solutions" / "a5_pipelines"))
    try:
        import pipelines  # the reference solution: only on the course's own machines
    except ImportError:
        capacity_again()
        return 0
    pts = _skewed(384, 384)
    pipelines.tiles_static(pts, 300)
    pipelines.tiles_cpu(pts, 300)
    print("\nUneven work: 144 Mandelbrot tiles, the expensive ones all in the first half, 2 workers")
    compare(
        [
            ("serial", lambda: pipelines.tiles_serial(pts, 300)),
            ("static: each worker gets half the tiles up front", lambda: pipelines.tiles_static(pts, 300, 2)),
            ("dynamic: next tile to whoever is free", lambda: pipelines.tiles_cpu(pts, 300, 2)),
            ("dynamic, 2 processes over shared memory", lambda: pipelines.tiles_processes(pts, 300, 2)),
        ],
        r,
    )

    rows = list(np.random.default_rng(1).uniform(-3.0, 3.0, (32, 20000)))
    pipelines.pipeline_cpu(rows)
    print("\nA 3-stage pipeline over 32 chunks (load, transform, reduce: numba nogil stages)")
    stage_times = []
    for name, fn, arg in (
        ("load", pipelines.load_chunk, rows[0]),
        ("transform", pipelines.transform_chunk, pipelines.load_chunk(rows[0])),
        ("reduce", pipelines.reduce_chunk, pipelines.transform_chunk(pipelines.load_chunk(rows[0]))),
    ):
        stage_times.append((name, 32 * median_time(lambda fn=fn, arg=arg: fn(arg), r)))
    for name, seconds in stage_times:
        row(f"stage {name}, all chunks", seconds)
    compare(
        [
            ("stages one after the other (pipeline_serial)", lambda: pipelines.pipeline_serial(rows)),
            ("stages in threads, queues of 4 (pipeline_cpu)", lambda: pipelines.pipeline_cpu(rows)),
        ],
        r,
    )
    capacity_again()
    return 0


def _nothing_arg(_arg) -> None:
    pass


def _skewed(height: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    pts = np.empty((2, height, width))
    top = height // 2
    pts[0, :top] = rng.uniform(-0.5, 0.2, (top, width))
    pts[1, :top] = rng.uniform(-0.4, 0.4, (top, width))
    pts[:, top:] = rng.uniform(2.5, 3.0, (2, height - top, width))
    return pts


if __name__ == "__main__":
    sys.exit(main())
