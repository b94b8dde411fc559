"""Hidden tests for a2 (instructors only; never released).

Random values from a seed students cannot see; skewed data (every value in one bin, where a race
loses the most updates); sizes that are not multiples of any block size; size 1; other integer
dtypes; inputs left untouched. Failure messages do not reveal expected values (reveal=False).
"""

import time

import numpy as np

from grader.testkit import REAL_TYPES, assert_real_close, grade, hidden_rng

CONTENTION_S = 2.0  # how long the contention test keeps counting
_wall = time.perf_counter  # bound before any student code is imported


def _check_counts(got, want, what):
    assert isinstance(got, np.ndarray) and type(got) is np.ndarray, f"{what} should return a numpy array"
    assert got.dtype == np.int64, f"{what} should return int64 counts, got {got.dtype}"
    assert got.shape == want.shape, f"{what} returned the wrong number of counts"
    wrong = int(np.count_nonzero(got != want))
    assert wrong == 0, f"{what}: {wrong} of {want.size} counts wrong (total {int(got.sum())} for {int(want.sum())} values)"


def _cases(sizes, nbins, salt):
    rng = hidden_rng(salt)
    for n in sizes:
        for dtype in (np.int32, np.int64):
            yield f"n={n} {np.dtype(dtype).name} uniform", rng.integers(0, nbins, n).astype(dtype)
        yield f"n={n} all in one bin", np.full(n, int(rng.integers(0, nbins)), dtype=np.int32)
        skew = rng.integers(0, nbins, n).astype(np.int32)
        skew[rng.random(n) < 0.8] = nbins - 1  # 80 % in the last bin
        yield f"n={n} skewed", skew


# ------------------------------------------------------------------------- task histogram


@grade(task="histogram", part="cpu", points=2)
def test_histogram_cpu_random_skewed_and_edge_inputs(impl, reference, spec):
    part = spec.part("histogram", "cpu")
    for nbins in (part.params["nbins"], 1, 7):
        for label, v in _cases(part.sizes, nbins, salt=nbins):
            before = v.copy()
            _check_counts(impl.histogram_cpu(v, nbins), reference.histogram_serial(v, nbins), f"histogram_cpu ({label})")
            assert np.array_equal(v, before), "histogram_cpu must not modify its input"


@grade(task="histogram", part="cpu", points=1)
def test_histogram_cpu_loses_no_update_under_contention(impl, reference):
    """Many values in very few bins, counted again and again.

    Racing threads lose updates only while they really run at the same time. On an idle machine
    that is every call (a racy histogram loses ~20 % here); on a loaded one the threads may take
    turns on one core for whole calls, so the test keeps trying for a fixed time rather than a
    fixed number of calls (~5 ms a call when idle): the busier the machine, the more calls.
    """
    v = (hidden_rng(99).random(2_000_000) < 0.5).astype(np.int32)
    want = reference.histogram_serial(v, 2)
    calls, started = 0, _wall()
    while calls < 40 or _wall() - started < CONTENTION_S:
        calls += 1
        _check_counts(impl.histogram_cpu(v, 2), want, f"histogram_cpu (2 bins, 2 million values, call {calls})")


@grade(task="histogram", part="gpu", points=2)
def test_histogram_gpu_random_skewed_and_edge_inputs(impl, reference, spec, gpu):
    part = spec.part("histogram", "gpu")
    for nbins in (part.params["nbins"], 1, 256):
        for label, v in _cases(gpu.sizes(part), nbins, salt=1000 + nbins):
            got = gpu.to_host(impl.histogram_gpu(gpu.to_device(v), nbins))
            _check_counts(got, reference.histogram_serial(v, nbins), f"histogram_gpu ({label})")


@grade(task="dot", part="cpu", points=2)
def test_dot_cpu_random_and_edge_inputs(impl, reference, spec):
    rng = hidden_rng(7)
    for n in spec.part("dot", "cpu").sizes:
        for scale in (1.0, 1e-3, 1e6):
            a, b = rng.uniform(-scale, scale, n), rng.uniform(-1, 1, n)
            before = a.copy()
            got = impl.dot_cpu(a, b)
            assert type(got) in REAL_TYPES, f"dot_cpu should return a float, got {type(got).__name__}"
            want = reference.dot_serial(a, b)
            tol = 1e-9 * float(np.abs(a * b).sum()) + 1e-300
            assert_real_close(got, want, rel=0, abs=tol, what=f"dot_cpu (n={n}, scale {scale:g})", reveal=False)
            assert np.array_equal(a, before), "dot_cpu must not modify its input"


@grade(task="dot", part="cpu", points=1)
def test_dot_cpu_known_values(impl):
    ones = np.ones(1_000_001)
    assert_real_close(impl.dot_cpu(ones, ones), 1_000_001.0, rel=0, abs=1e-6, what="dot_cpu of two vectors of ones")
    assert_real_close(impl.dot_cpu(np.array([3.0]), np.array([-2.0])), -6.0, what="dot_cpu of size 1")


@grade(task="dot", part="gpu", points=2)
def test_dot_gpu_random_and_edge_inputs(impl, reference, spec, gpu):
    rng = hidden_rng(8)
    for n in gpu.sizes(spec.part("dot", "gpu")):
        a, b = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
        got = impl.dot_gpu(gpu.to_device(a), gpu.to_device(b))
        assert type(got) in REAL_TYPES, f"dot_gpu should return a float, got {type(got).__name__}"
        tol = 1e-9 * float(np.abs(a * b).sum()) + 1e-300
        assert_real_close(got, reference.dot_serial(a, b), rel=0, abs=tol, what=f"dot_gpu (n={n})", reveal=False)
