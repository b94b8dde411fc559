"""Matrix multiplication on the CPU: the a4 serial reference, the reference solution and NumPy's BLAS, side by side.

    python benchmarks/matmul_blas.py [--sizes 768 2048] [--repeats 5]

For each size n (square float64 matrices), in one run on the same inputs: the serial i-k-j
reference `matmul_serial`, the textbook i-j-k loop (n <= 1024 only: it is slow), the reference
solution `matmul_cpu` on one thread (cache blocking alone) and on all threads, and `A @ B` through
NumPy's BLAS on one thread (a child process with OPENBLAS_NUM_THREADS=1 and friends) and on all of
them. Each time is the best of --repeats calls after a warm-up call (on a shared machine the
fastest call is the one least disturbed by others); the table gives GFLOP/s (2n^3 flops per
product) and the speedup over the serial reference, and the load average before and after, since
the two-thread rows mean little on a busy machine. The handout of a4 quotes it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from numba import get_num_threads, njit, set_num_threads

ROOT = Path(__file__).resolve().parents[1]
SINGLE_THREAD_ENV = {v: "1" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def _solution():
    spec = importlib.util.spec_from_file_location("a4_solution", ROOT / "solutions" / "a4_matmul" / "matmul.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@njit
def matmul_ijk(A, B):
    """The textbook loop order: the innermost loop walks down a column of B (stride m * 8 bytes)."""
    n, k = A.shape
    m = B.shape[1]
    C = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            acc = 0.0
            for p in range(k):
                acc += A[i, p] * B[p, j]
            C[i, j] = acc
    return C


def _inputs(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n)
    return rng.uniform(0, 1, (n, n)), rng.uniform(0, 1, (n, n))


def _best_time(fn, *args, repeats: int) -> float:
    fn(*args)  # compile / warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return min(times)


def _blas_one_thread(n: int, repeats: int) -> float:
    """A @ B timed in a child process whose BLAS was told to use one thread before it loaded."""
    code = (
        "import sys, json; sys.path.insert(0, %r); import matmul_blas as mb; "
        "A, B = mb._inputs(%d); print(json.dumps(mb._best_time(lambda a, b: a @ b, A, B, repeats=%d)))"
    ) % (str(Path(__file__).parent), n, repeats)
    out = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **SINGLE_THREAD_ENV}, capture_output=True, text=True, check=True
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[768])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sol = _solution()
    threads = get_num_threads()
    print(f"{os.cpu_count()} CPUs, numba uses {threads} threads; load average {os.getloadavg()[0]:.2f}")
    for n in args.sizes:
        A, B = _inputs(n)
        flops = 2.0 * n**3
        rows: list[tuple[str, float]] = []
        serial = _best_time(sol.matmul_serial, A, B, repeats=args.repeats)
        rows.append(("matmul_serial (i-k-j, 1 thread)", serial))
        if n <= 1024:
            rows.append(("textbook i-j-k (1 thread)", _best_time(matmul_ijk, A, B, repeats=max(1, args.repeats // 2))))
        set_num_threads(1)
        rows.append(("matmul_cpu, blocked, 1 thread", _best_time(sol.matmul_cpu, A, B, repeats=args.repeats)))
        set_num_threads(threads)
        rows.append((f"matmul_cpu, blocked, {threads} threads", _best_time(sol.matmul_cpu, A, B, repeats=args.repeats)))
        rows.append(("NumPy A @ B (BLAS), 1 thread", _blas_one_thread(n, args.repeats)))
        rows.append(("NumPy A @ B (BLAS), all threads", _best_time(lambda a, b: a @ b, A, B, repeats=args.repeats)))
        assert np.allclose(sol.matmul_cpu(A, B), A @ B)
        print(f"\nn = {n}: ({n}x{n}) @ ({n}x{n}) float64, {flops / 1e9:.2f} GFLOP")
        print(f"  {'version':<36} {'time':>10} {'GFLOP/s':>8} {'vs serial':>10}")
        for name, t in rows:
            print(f"  {name:<36} {t * 1e3:>8.1f} ms {flops / t / 1e9:>8.1f} {serial / t:>9.2f}x")
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
