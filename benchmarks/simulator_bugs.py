"""Does the CUDA simulator catch GPU bugs? Planted bugs in copies of correct kernels, 20 runs each.

    python benchmarks/simulator_bugs.py [--runs 20]

For each kernel (a correct reference and copies with one planted bug), every run draws fresh
inputs, launches it under numba's plain simulator and under `grader.worker.simulator.strict.strict_simulator`,
and counts a run as *caught* when the kernel raises or its output differs from NumPy's answer.
Target: every bug caught in ≥ 19 of 20 strict runs, every reference in 0 of 20 (no false alarms).
"""

from __future__ import annotations

import os

os.environ["NUMBA_ENABLE_CUDASIM"] = "1"  # before numba is imported

import argparse  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from numba import cuda, float64, int32  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from grader.worker.simulator.strict import strict_simulator  # noqa: E402

NBINS, HIST_TPB, SUM_TPB, MAP_TPB = 16, 128, 64, 128


# -- histogram: shared-memory bins, atomics, then a global merge ------------------------------------
@cuda.jit
def hist_ok(x, bins):
    sm = cuda.shared.array(NBINS, int32)
    t = cuda.threadIdx.x
    if t < NBINS:
        sm[t] = 0
    cuda.syncthreads()
    i = cuda.grid(1)
    if i < x.size:
        cuda.atomic.add(sm, x[i], 1)
    cuda.syncthreads()
    if t < NBINS:
        cuda.atomic.add(bins, t, sm[t])


@cuda.jit
def hist_non_atomic(x, bins):
    sm = cuda.shared.array(NBINS, int32)
    t = cuda.threadIdx.x
    if t < NBINS:
        sm[t] = 0
    cuda.syncthreads()
    i = cuda.grid(1)
    if i < x.size:
        sm[x[i]] += 1  # BUG: read-modify-write races with the other threads of the block
    cuda.syncthreads()
    if t < NBINS:
        cuda.atomic.add(bins, t, sm[t])


def run_hist(kernel, rng):
    x = rng.integers(0, NBINS, size=1000).astype(np.int32)
    x[: x.size // 2] = 3  # skewed: half the values in one bin, as the hidden tests do
    bins = cuda.to_device(np.zeros(NBINS, np.int32))
    kernel[(x.size + HIST_TPB - 1) // HIST_TPB, HIST_TPB](cuda.to_device(x), bins)
    return bins.copy_to_host(), np.bincount(x, minlength=NBINS)


# -- block sum: tree reduction in shared memory -----------------------------------------------------
@cuda.jit
def sum_ok(x, out):
    sm = cuda.shared.array(SUM_TPB, float64)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    sm[t] = x[i] if i < x.size else 0.0
    cuda.syncthreads()
    s = SUM_TPB // 2
    while s > 0:
        if t < s:
            sm[t] += sm[t + s]
        cuda.syncthreads()
        s //= 2
    if t == 0:
        out[cuda.blockIdx.x] = sm[0]


@cuda.jit
def sum_missing_sync(x, out):
    sm = cuda.shared.array(SUM_TPB, float64)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    sm[t] = x[i] if i < x.size else 0.0
    # BUG: no cuda.syncthreads() here: the tree reads slots other threads may not have written yet
    s = SUM_TPB // 2
    while s > 0:
        if t < s:
            sm[t] += sm[t + s]
        cuda.syncthreads()
        s //= 2
    if t == 0:
        out[cuda.blockIdx.x] = sm[0]


def run_sum(kernel, rng):
    x = rng.random(1000)
    blocks = (x.size + SUM_TPB - 1) // SUM_TPB
    out = cuda.device_array(blocks, np.float64)
    kernel[blocks, SUM_TPB](cuda.to_device(x), out)
    return out.copy_to_host().sum(), x.sum()


# -- map: one thread per element, guarded -----------------------------------------------------------
@cuda.jit
def scale_ok(x, out):
    i = cuda.grid(1)
    if i < x.size:
        out[i] = 2.0 * x[i]


@cuda.jit
def scale_off_by_one(x, out):
    i = cuda.grid(1)
    if i <= x.size:  # BUG: one thread too many
        out[i] = 2.0 * x[i]


def run_scale(kernel, rng):
    x = rng.random(300)  # not a multiple of the block size
    out = cuda.device_array(x.size, np.float64)
    kernel[(x.size + MAP_TPB - 1) // MAP_TPB, MAP_TPB](cuda.to_device(x), out)
    return out.copy_to_host(), 2.0 * x


# -- 3-point stencil with a zero boundary -----------------------------------------------------------
@cuda.jit
def stencil_ok(x, out):
    i = cuda.grid(1)
    if i < x.size:
        left = x[i - 1] if i > 0 else 0.0
        right = x[i + 1] if i < x.size - 1 else 0.0
        out[i] = left + x[i] + right


@cuda.jit
def stencil_negative_index(x, out):
    i = cuda.grid(1)
    if i < x.size:
        left = x[i - 1]  # BUG: at i = 0 this is x[-1]: NumPy wraps, a GPU reads outside the array
        right = x[i + 1] if i < x.size - 1 else 0.0
        out[i] = left + x[i] + right


def run_stencil(kernel, rng):
    x = np.zeros(300)
    x[50:250] = rng.random(200)  # a pulse padded with zeros: the wrapped read happens to add 0
    out = cuda.device_array(x.size, np.float64)
    kernel[(x.size + MAP_TPB - 1) // MAP_TPB, MAP_TPB](cuda.to_device(x), out)
    padded = np.concatenate([[0.0], x, [0.0]])
    return out.copy_to_host(), padded[:-2] + padded[1:-1] + padded[2:]


# -- one global total: each block adds its partial sum (between-block race when not atomic) ----------
@cuda.jit
def total_atomic(x, out):
    sm = cuda.shared.array(SUM_TPB, float64)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    sm[t] = x[i] if i < x.size else 0.0
    cuda.syncthreads()
    s = SUM_TPB // 2
    while s > 0:
        if t < s:
            sm[t] += sm[t + s]
        cuda.syncthreads()
        s //= 2
    if t == 0:
        cuda.atomic.add(out, 0, sm[0])


@cuda.jit
def total_plain_add(x, out):
    sm = cuda.shared.array(SUM_TPB, float64)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    sm[t] = x[i] if i < x.size else 0.0
    cuda.syncthreads()
    s = SUM_TPB // 2
    while s > 0:
        if t < s:
            sm[t] += sm[t + s]
        cuda.syncthreads()
        s //= 2
    if t == 0:
        out[0] += sm[0]  # BUG: blocks run concurrently on a GPU; this read-modify-write loses sums


@cuda.jit
def total_warp_shuffles(x, out):
    i = cuda.grid(1)
    v = x[i] if i < x.size else 0.0
    offset = 16
    while offset > 0:
        v += cuda.shfl_down_sync(0xFFFFFFFF, v, offset)
        offset //= 2
    if cuda.laneid == 0:
        cuda.atomic.add(out, 0, v)


@cuda.jit
def total_shuffle_after_return(x, out):
    i = cuda.grid(1)
    if i >= x.size:
        return  # BUG: the lanes past the end leave, yet the full mask below names them
    v = x[i]
    offset = 16
    while offset > 0:
        v += cuda.shfl_down_sync(0xFFFFFFFF, v, offset)
        offset //= 2
    if cuda.laneid == 0:
        cuda.atomic.add(out, 0, v)


def run_total(kernel, rng):
    x = rng.random(1000)
    out = cuda.to_device(np.zeros(1))
    kernel[(x.size + SUM_TPB - 1) // SUM_TPB, SUM_TPB](cuda.to_device(x), out)
    return out.copy_to_host()[0], x.sum()


# -- histogram merged into global bins: shared bins added with a plain += (between-block race) ------
@cuda.jit
def hist_plain_merge(x, bins):
    sm = cuda.shared.array(NBINS, int32)
    t = cuda.threadIdx.x
    if t < NBINS:
        sm[t] = 0
    cuda.syncthreads()
    i = cuda.grid(1)
    if i < x.size:
        cuda.atomic.add(sm, x[i], 1)
    cuda.syncthreads()
    if t < NBINS:
        bins[t] += sm[t]  # BUG: every block adds into the same global bins without an atomic


# -- a table in shared memory that only block 0 loads (the plain simulator reuses it for every block)
@cuda.jit
def table_every_block(x, out):
    table = cuda.shared.array(NBINS, float64)
    t = cuda.threadIdx.x
    if t < NBINS:
        table[t] = 0.5 * t
    cuda.syncthreads()
    i = cuda.grid(1)
    if i < x.size:
        out[i] = table[x[i]]


@cuda.jit
def table_block_zero_only(x, out):
    table = cuda.shared.array(NBINS, float64)
    t = cuda.threadIdx.x
    if cuda.blockIdx.x == 0 and t < NBINS:  # BUG: shared memory is per block; the others never load it
        table[t] = 0.5 * t
    cuda.syncthreads()
    i = cuda.grid(1)
    if i < x.size:
        out[i] = table[x[i]]


def run_table(kernel, rng):
    x = rng.integers(0, NBINS, size=300).astype(np.int32)
    out = cuda.device_array(x.size, np.float64)
    kernel[(x.size + MAP_TPB - 1) // MAP_TPB, MAP_TPB](cuda.to_device(x), out)
    return out.copy_to_host(), 0.5 * x


CASES = [
    ("histogram, shared bins + atomics", "reference", hist_ok, run_hist),
    ("histogram, shared bins + atomics", "non-atomic update", hist_non_atomic, run_hist),
    ("block sum, shared-memory tree", "reference", sum_ok, run_sum),
    ("block sum, shared-memory tree", "missing syncthreads", sum_missing_sync, run_sum),
    ("map, n = 300", "reference", scale_ok, run_scale),
    ("map, n = 300", "off-by-one guard", scale_off_by_one, run_scale),
    ("3-point stencil", "reference", stencil_ok, run_stencil),
    ("3-point stencil", "negative index", stencil_negative_index, run_stencil),
    ("one global total", "reference (atomic per block)", total_atomic, run_total),
    ("one global total", "plain += per block", total_plain_add, run_total),
    ("one global total", "reference (warp shuffles)", total_warp_shuffles, run_total),
    ("one global total", "shuffle after early return", total_shuffle_after_return, run_total),
    ("histogram, shared bins + atomics", "plain += into global bins", hist_plain_merge, run_hist),
    ("table in shared memory", "reference", table_every_block, run_table),
    ("table in shared memory", "loaded by block 0 only", table_block_zero_only, run_table),
]


def caught(kernel, runner, rng) -> tuple[bool, str]:
    try:
        got, want = runner(kernel, rng)
    except Exception as exc:  # noqa: BLE001 - any failure of the launch counts as caught
        text = re.sub(r"tid=\[[^]]*\] ctaid=\[[^]]*\]: ", "", str(exc).splitlines()[0])
        text = re.sub(r"\d+", "N", text)  # the same kind of failure reads the same, whichever thread hit it
        return True, f"{type(exc).__name__}: {text[:80]}"
    if np.allclose(got, want, equal_nan=False):
        return False, ""
    return True, "wrong result"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print("| kernel | variant | caught, plain simulator | caught, strict | how (strict) | s per plain run | s per strict run |")
    print("|---|---|---|---|---|---|---|")
    ok = True
    for name, variant, kernel, runner in CASES:
        rng = np.random.default_rng(12345)
        t0 = time.perf_counter()
        plain = sum(caught(kernel, runner, rng)[0] for _ in range(args.runs))
        per_plain = (time.perf_counter() - t0) / args.runs
        hows, strict = set(), 0
        t0 = time.perf_counter()
        with strict_simulator():
            for _ in range(args.runs):
                hit, how = caught(kernel, runner, rng)
                strict += hit
                if how:
                    hows.add(how)
        per = (time.perf_counter() - t0) / args.runs
        if variant.startswith("reference"):
            ok &= strict == 0  # the plain simulator may fail a correct kernel (no warp shuffles there)
        else:
            ok &= strict >= args.runs - args.runs // 20
        how = "; ".join(sorted(hows)) or "—"
        counts = f"{plain}/{args.runs} | {strict}/{args.runs}"
        print(f"| {name} | {variant} | {counts} | {how} | {per_plain:.2f} | {per:.2f} |", flush=True)
    print(f"\ntarget (each bug ≥ {args.runs - args.runs // 20}/{args.runs} strict, references 0): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
