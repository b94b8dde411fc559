"""Hidden tests for a4 (instructors only; never released).

Random values from a seed students cannot see; rectangular shapes with n, k and m all different
and not multiples of TILE (a transposed index or a grid laid out the wrong way round only shows
there); 1 x 1, a row times a column, a column times a row, a single row of C and a single column
of C; values of very different magnitudes; integer-valued matrices whose products are exact in any
order; results of earlier calls that must stay right after later calls of the same shape (no
output array shared between calls); a CPU contention test that repeats small products of several
shapes for a fixed time, where threads sharing an element of C, a scratch row or a slot of partial
sums mix their work; float64 results and inputs left untouched. Failure messages do not reveal
expected values.
"""

import time

import numpy as np
import pytest

from grader.testkit import INT_TYPES, assert_race_free, assert_real_close, contention_seconds, grade, hidden_rng


def _shapes(sizes, rng):
    """(n, k, m) triples from the spec's dimensions: edge shapes, the three rotations of three
    different dimensions (so n != k != m, and each of them once the long one), a single row and a
    single column of C, and one random shape."""
    dims = sorted(set(sizes))
    big, mid, small = dims[-1], dims[-2], dims[-3]
    return [
        (1, 1, 1),
        (1, big, 1),  # a row times a column: one long dot product
        (big, 1, mid),  # an outer product: k = 1
        (big, mid, small),
        (mid, small, big),
        (small, big, mid),
        (1, mid, big),  # C is a single row (1 x k times k x m)
        (big, mid, 1),  # C is a single column (n x k times k x 1)
        tuple(int(v) for v in rng.integers(1, big + 1, 3)),
    ]


def _check(got, want, bound, what):
    """got close to want elementwise within `bound` (the rounding a reordered sum may show), with
    the exact type, shape and dtype; the message names no expected value."""
    assert type(got) is np.ndarray, f"{what} should return a numpy array (a device array from the GPU), got {type(got).__name__}"
    assert got.shape == want.shape, f"{what} returned shape {got.shape}, expected {want.shape}"
    assert got.dtype == np.float64, f"{what} should return float64, got {got.dtype}"
    with np.errstate(invalid="ignore"):
        wrong = ~(np.abs(got - want) <= bound)  # NaN counts as wrong
    if wrong.any():
        first = tuple(int(v) for v in np.argwhere(wrong)[0])
        raise AssertionError(f"{what}: {int(wrong.sum())} of {wrong.size} elements wrong; first at {first}")


def _bound(A, B):
    """What rounding may change in C[i, j] when its k products are added in another order."""
    k = A.shape[1]
    return 4 * max(k, 1) * np.finfo(np.float64).eps * (np.abs(A) @ np.abs(B)) + 1e-300


def _random_pair(rng, n, k, m, skewed=False):
    A, B = rng.uniform(-1, 1, (n, k)), rng.uniform(-1, 1, (k, m))
    if skewed:  # rows of A and columns of B from 1e-8 to 1e8: the products span 32 orders of magnitude
        A *= 10.0 ** rng.uniform(-8, 8, (n, 1))
        B *= 10.0 ** rng.uniform(-8, 8, (1, m))
    return A, B


def _integer_pairs(rng, n, k, m):
    """Products exact in any order: small integers, ones (C = k everywhere) and the identity."""
    yield "small integers", rng.integers(-8, 9, (n, k)).astype(np.float64), rng.integers(-8, 9, (k, m)).astype(np.float64)
    yield "all ones", np.ones((n, k)), np.ones((k, m))
    eye = np.eye(k, m)
    yield "times the identity", rng.integers(-100, 101, (n, k)).astype(np.float64), eye


# ------------------------------------------------------------------------- cpu


def _matmul_race_free(impl):
    """A traced run (`assert_race_free`): prange threads sharing scratch memory or elements of C are
    found whatever the machine's load. Every CPU correctness test starts with it, so racy code loses
    the whole line in every run. Returns whether the trace judged the loops (see `contention_seconds`)."""
    rng = hidden_rng(4)
    shapes = ((13, 6, 9), (9, 16, 10))
    # a list, not a generator: every input is traced even after one the trace could not judge
    return all([assert_race_free(impl.matmul_cpu, rng.uniform(-1, 1, (n, k)), rng.uniform(-1, 1, (k, m))) for n, k, m in shapes])


@grade(task="matmul", part="cpu", points=1)
def test_matmul_cpu_rectangular_edge_and_skewed_inputs(impl, reference, spec):
    _matmul_race_free(impl)
    rng = hidden_rng(1)
    earlier = []  # every result is checked again after all later calls: no output array shared between calls
    for n, k, m in _shapes(spec.part("matmul", "cpu").sizes, rng):
        for skewed in (False, True):
            A, B = _random_pair(rng, n, k, m, skewed)
            kept_a, kept_b = A.copy(), B.copy()
            got = impl.matmul_cpu(A, B)
            label = f"matmul_cpu for ({n}x{k}) @ ({k}x{m}){' with values from 1e-8 to 1e8' if skewed else ''}"
            want, bound = reference.matmul_serial(A, B), _bound(A, B)
            _check(got, want, bound, label)
            assert np.array_equal(A, kept_a) and np.array_equal(B, kept_b), "matmul_cpu must not modify its inputs"
            earlier.append((got, got.copy(), label))
    for got, then, label in earlier:
        assert np.array_equal(got, then, equal_nan=True), (
            f"{label}: the array it returned changed during later calls (each call must return a new array)"
        )


@grade(task="matmul", part="cpu", points=1)
def test_matmul_cpu_exact_integer_products(impl, spec):
    _matmul_race_free(impl)
    rng = hidden_rng(2)
    for n, k, m in _shapes(spec.part("matmul", "cpu").sizes, rng)[:5]:
        for label, A, B in _integer_pairs(rng, n, k, m):
            _check(impl.matmul_cpu(A, B), A @ B, 0.0, f"matmul_cpu for ({n}x{k}) @ ({k}x{m}), {label}")


# Shapes of the contention test, (n, k, m): many rows of C shared out among the threads (a scratch
# row or a slot of partial sums reused across rows mixes rows) and long rows of C (threads that
# split k add into the same elements). The first three are 12-17 million multiply-adds a call:
# when a loaded machine makes the threads take turns on one core, a call still spans several time
# slices, so a thread is paused in the middle of a row while another runs (calls of a few hundred
# thousand were over within one slice and let a shared scratch row through in 1 grading of 4).
# Each racy variant in tests/wrong/a4_matmul/ (a shared scratch row, per-thread slots picked by
# row, prange over k) was caught in at least 19 of 20 runs of this test, idle and with one core
# busy, on the 2-core VM while other test runs shared it (load 6-22).
CONTENTION_SHAPES = [(128, 512, 256), (256, 256, 160), (64, 1024, 192), (128, 128, 8), (96, 48, 40)]
CONTENTION_BURST = 4  # calls back to back (their results checked afterwards): numba's threads are still awake
# How long: CPU time of this process, not wall time. A race needs the threads to run (together, or
# one paused mid-row while another runs); on a machine shared with other programs they get a
# fraction of the cores, and a wall-clock budget bought them ever less running time: a shared
# scratch row kept its point in 4 of 20 gradings with one core busy at a 3 s wall-clock budget.
CONTENTION_CPU_S = 6.0  # at least this much CPU time in this process (two threads on two free cores: ~3 s; untraced code)
CONTENTION_PASSES = 2  # and at least this many passes over the shapes
CONTENTION_MAX_S = 40.0  # but stop after this long whatever the CPU time (a very busy machine)


@grade(task="matmul", part="cpu", points=1)
def test_matmul_cpu_loses_no_update_under_contention(impl):
    """A race only shows while two threads really work at once (or one is paused in the middle of
    its work while another runs), so products of several shapes are computed again and again for
    a fixed amount of CPU time rather than a fixed count: on a loaded machine each call overlaps
    less, and more calls make up for it. Small integer values: the products are exact in any order.
    Before that, a traced run finds threads sharing scratch memory or elements of C whatever the
    machine's load."""
    rng = hidden_rng(3)
    cpu_budget = contention_seconds(CONTENTION_CPU_S, _matmul_race_free(impl))
    cases = []
    for n, k, m in CONTENTION_SHAPES:
        A = rng.integers(0, 3, (n, k)).astype(np.float64)
        B = rng.integers(0, 3, (k, m)).astype(np.float64)
        cases.append((A, B, A @ B, f"matmul_cpu for ({n}x{k}) @ ({k}x{m}), computed again and again"))
    start, cpu, calls, passes = time.monotonic(), time.process_time(), 0, 0
    while passes < CONTENTION_PASSES or (time.process_time() - cpu < cpu_budget and time.monotonic() - start < CONTENTION_MAX_S):
        for A, B, want, label in cases:
            results = [impl.matmul_cpu(A, B) for _ in range(CONTENTION_BURST)]
            for got in results:
                calls += 1
                _check(got, want, 0.0, f"{label} (call {calls})")
        passes += 1


# ------------------------------------------------------------------------- gpu


def _on_gpu(impl, gpu, A, B):
    dA, dB = gpu.to_device(A), gpu.to_device(B)
    out = gpu.to_host(impl.matmul_gpu(dA, dB))
    assert np.array_equal(gpu.to_host(dA), A) and np.array_equal(gpu.to_host(dB), B), "matmul_gpu must not modify its inputs"
    return out


@grade(task="matmul", part="gpu", points=2)
def test_matmul_gpu_rectangular_and_edge_shapes(impl, reference, spec, gpu):
    rng = hidden_rng(11)
    for n, k, m in _shapes(gpu.sizes(spec.part("matmul", "gpu")), rng):
        A, B = _random_pair(rng, n, k, m)
        _check(_on_gpu(impl, gpu, A, B), reference.matmul_serial(A, B), _bound(A, B), f"matmul_gpu for ({n}x{k}) @ ({k}x{m})")
    # Two products of the same shape, both read back only after the second call: each call must
    # return its own device array.
    n, k, m = _shapes(gpu.sizes(spec.part("matmul", "gpu")), rng)[4]
    pairs = [_random_pair(rng, n, k, m) for _ in range(2)]
    results = [impl.matmul_gpu(gpu.to_device(A), gpu.to_device(B)) for A, B in pairs]
    for call, ((A, B), got) in enumerate(zip(pairs, results, strict=True), 1):
        label = f"matmul_gpu for ({n}x{k}) @ ({k}x{m}), call {call} of 2 read back after both calls"
        _check(gpu.to_host(got), reference.matmul_serial(A, B), _bound(A, B), label)


@grade(task="matmul", part="gpu", points=1)
def test_matmul_gpu_exact_and_skewed_values(impl, reference, spec, gpu):
    rng = hidden_rng(12)
    n, k, m = _shapes(gpu.sizes(spec.part("matmul", "gpu")), rng)[3]
    for label, A, B in _integer_pairs(rng, n, k, m):
        _check(_on_gpu(impl, gpu, A, B), A @ B, 0.0, f"matmul_gpu for ({n}x{k}) @ ({k}x{m}), {label}")
    A, B = _random_pair(rng, m, n, k, skewed=True)
    _check(
        _on_gpu(impl, gpu, A, B),
        reference.matmul_serial(A, B),
        _bound(A, B),
        f"matmul_gpu for ({m}x{n}) @ ({n}x{k}), values from 1e-8 to 1e8",
    )


# ------------------------------------------------------------------------- intensity


@grade(task="intensity", part="python", points=1)
def test_intensity_on_random_inputs_and_invalid_arguments(impl):
    rng = hidden_rng(21)
    for _ in range(100):
        tile = int(rng.choice([1, 2, 4, 8, 16, 32, 64]))
        n = tile * int(rng.integers(1, 200))
        want = n * tile / (8 * n + 4 * tile)
        assert_real_close(
            impl.arithmetic_intensity(n, tile), want, rel=1e-9, what=f"arithmetic_intensity(n, {tile})", reveal=False
        )
        x, peak, bw = float(rng.uniform(0.01, 50)), float(rng.uniform(100, 1e5)), float(rng.uniform(10, 5e3))
        got = impl.attainable_gflops(x, peak, bw)
        assert_real_close(got, min(peak, x * bw), rel=1e-9, what="attainable_gflops on a random machine", reveal=False)
    assert_real_close(impl.arithmetic_intensity(1, 1), 2 / 24, rel=1e-9, what="arithmetic_intensity(1, 1)", reveal=False)
    for n, peak, bw in [
        (1024, 34_000.0, 3_350.0),
        (960, 9_700.0, 1_555.0),
        (4096, 60.0, 40.0),
        (48, 500.0, 200.0),
        (7, 1.0, 100.0),
    ]:
        tile = impl.smallest_compute_bound_tile(n, peak, bw)
        assert type(tile) in INT_TYPES, "smallest_compute_bound_tile must return an int"
        tile, ridge = int(tile), peak / bw
        divisors = [t for t in range(1, n + 1) if n % t == 0]
        assert tile in divisors and n * tile / (8 * n + 4 * tile) >= ridge, (
            "smallest_compute_bound_tile returned a tile that is not compute-bound"
        )
        smaller = [t for t in divisors if t < tile]
        assert all(n * t / (8 * n + 4 * t) < ridge for t in smaller), (
            "smallest_compute_bound_tile did not return the smallest tile"
        )
    invalid = [
        (impl.arithmetic_intensity, (0, 1)),
        (impl.arithmetic_intensity, (16, 0)),
        (impl.arithmetic_intensity, (16, 5)),
        (impl.arithmetic_intensity, (16.0, 4)),
        (impl.arithmetic_intensity, (16, 32)),
        (impl.arithmetic_intensity, (16, 4.0)),  # integers only: not floats, not bools
        (impl.arithmetic_intensity, (True, 1)),
        (impl.arithmetic_intensity, (-16, 4)),
        (impl.attainable_gflops, (0.0, 100.0, 10.0)),
        (impl.attainable_gflops, (1.0, -5.0, 10.0)),
        (impl.attainable_gflops, (1.0, 100.0, 0.0)),
        (impl.attainable_gflops, (-1.0, 100.0, 10.0)),
        (impl.attainable_gflops, (float("nan"), 100.0, 10.0)),  # NaN is not > 0
        (impl.smallest_compute_bound_tile, (64, 34_000.0, 10.0)),
        (impl.smallest_compute_bound_tile, (0, 100.0, 10.0)),
        (impl.smallest_compute_bound_tile, (64, 100.0, -1.0)),
        (impl.smallest_compute_bound_tile, (64, 0.0, 10.0)),
        (impl.smallest_compute_bound_tile, (64.0, 100.0, 10.0)),
    ]
    for i, (fn, args) in enumerate(invalid):
        with pytest.raises(ValueError):
            fn(*args)
            raise AssertionError(f"invalid case {i + 1} of {len(invalid)} for {fn.__name__} did not raise ValueError")
