"""Hidden tests for a2 (instructors only; never released).

Random values from a seed students cannot see; skewed data (every value in one bin, where a race
loses the most updates); bin counts other than the public test's 64 (up to MAX_BINS on the GPU);
sizes that are not multiples of any block size; size 1; other integer dtypes; a GPU input that needs
more blocks than a capped grid offers; inputs left untouched; for every CPU part that writes
shared memory, a traced run of its prange loops (`assert_race_free`: the same verdict in every run)
and then a timed contention test (for code the trace cannot follow). Failure messages do not
reveal expected values (reveal=False).
"""

import time

import numpy as np
from numba import config as numba_config
from numba import get_num_threads, set_num_threads

from grader.testkit import (
    REAL_TYPES,
    assert_counts,
    assert_race_free,
    assert_real_close,
    contention_seconds,
    grade,
    hidden_rng,
)

CONTENTION_S = {"histogram": 5.0, "dot": 2.0}  # how long each contention test keeps calling (untraced code)
_wall = time.perf_counter  # bound before any student code is imported
_MOST_THREADS = numba_config.NUMBA_NUM_THREADS  # what the grading worker may start, read before any student code


def _thread_counts():
    """The numba thread counts a contention test cycles through: the usual one (a thread per core)
    and more, up to what the grading worker may start (NUMBA_NUM_THREADS). Racing threads lose
    updates only while they really run at the same time; on a machine where other jobs keep a core
    busy, two threads may take turns for whole calls, while some of eight rarely do."""
    usual = get_num_threads()
    return list(dict.fromkeys([usual, min(2 * usual, _MOST_THREADS), _MOST_THREADS]))


def _hammer(cases, check, seconds):
    """Call ``check(case, calls)`` over and over for ``seconds`` (and at least twice per case
    and thread count), cycling through the cases and the thread counts; the usual thread count is
    restored afterwards. A fixed time rather than a fixed count: the busier the machine, the more calls."""
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


def _check_counts(got, want, what):
    assert_counts(got, want, what=what, reveal=False)


def _cases(sizes, nbins, salt):
    rng = hidden_rng(salt)
    for n in sizes:
        for dtype in (np.int32, np.int64):
            yield f"n={n} {np.dtype(dtype).name} uniform", rng.integers(0, nbins, n).astype(dtype)
        yield f"n={n} all in one bin", np.full(n, int(rng.integers(0, nbins)), dtype=np.int32)
        skew = rng.integers(0, nbins, n).astype(np.int32)
        skew[rng.random(n) < 0.8] = nbins - 1  # 80 % in the last bin
        yield f"n={n} skewed", skew


def _histogram_race_free(impl):
    """A traced run (`assert_race_free`): prange threads updating the same bin are found whatever the
    machine's load. Every CPU correctness test starts with it, so racy code loses the whole line in
    every run, not only in the runs where its threads happened to collide. Returns whether the
    trace judged the loops (see `contention_seconds`)."""
    rng = hidden_rng(97)
    # a list, not a generator: every input is traced even after one the trace could not judge
    return all(
        [assert_race_free(impl.histogram_cpu, rng.integers(0, nbins, 4099).astype(np.int32), nbins) for nbins in (1, 3, 64)]
    )


def _dot_race_free(impl):
    """The same for dot_cpu: prange threads adding into a shared partial sum."""
    rng = hidden_rng(96)
    return assert_race_free(impl.dot_cpu, rng.uniform(0.5, 1.5, 4099), rng.uniform(0.5, 1.5, 4099))


# ------------------------------------------------------------------------- task histogram


@grade(task="histogram", part="cpu", points=2)
def test_histogram_cpu_random_skewed_and_edge_inputs(impl, reference, spec):
    _histogram_race_free(impl)
    part = spec.part("histogram", "cpu")
    for nbins in (part.params["nbins"], 1, 7, 80, 100, 256, 1000):
        for label, v in _cases(part.sizes, nbins, salt=nbins):
            before = v.copy()
            _check_counts(impl.histogram_cpu(v, nbins), reference.histogram_serial(v, nbins), f"histogram_cpu ({label})")
            assert np.array_equal(v, before), "histogram_cpu must not modify its input"


@grade(task="histogram", part="cpu", points=1)
def test_histogram_cpu_loses_no_update_under_contention(impl, reference):
    """First a traced run (threads sharing a bin are found whatever the machine's load), then many
    values in very few bins, counted again and again, with more threads than usual too."""
    rng = hidden_rng(99)
    traced = _histogram_race_free(impl)
    cases = []
    for n, nbins in ((2_000_000, 2), (200_003, 1), (500_000, 3), (4_000_000, 1)):
        v = rng.integers(0, nbins, n).astype(np.int32)
        cases.append((v, nbins, reference.histogram_serial(v, nbins)))

    def check(case, call):
        v, nbins, want = case
        what = f"histogram_cpu ({nbins} bins, {v.size} values, call {call})"
        _check_counts(impl.histogram_cpu(v, nbins), want, what)

    _hammer(cases, check, contention_seconds(CONTENTION_S["histogram"], traced))


def _gpu_sizes(part, gpu):
    """The simulator's largest size is launched once, in the many-blocks test; the others with every kind of input."""
    sizes = gpu.sizes(part)
    return sizes[:-1] if gpu.simulated else sizes


@grade(task="histogram", part="gpu", points=1)
def test_histogram_gpu_random_skewed_and_edge_inputs(impl, reference, spec, gpu):
    part = spec.part("histogram", "gpu")
    for nbins in (part.params["nbins"], 1, 256):
        for label, v in _cases(_gpu_sizes(part, gpu), nbins, salt=1000 + nbins):
            got = gpu.to_host(impl.histogram_gpu(gpu.to_device(v), nbins))
            _check_counts(got, reference.histogram_serial(v, nbins), f"histogram_gpu ({label})")


@grade(task="histogram", part="gpu", points=1)
def test_histogram_gpu_any_bin_count_and_many_blocks(impl, reference, spec, gpu):
    """Bin counts between 1 and MAX_BINS other than the public test's, and an input of the largest
    size, which takes dozens of blocks (a launch whose grid is capped needs a grid-stride loop)."""
    part = spec.part("histogram", "gpu")
    rng = hidden_rng(1500)
    small = max(_gpu_sizes(part, gpu))
    for nbins in (2, 65, 100, 200):
        v = rng.integers(0, nbins, small).astype(np.int32)
        got = gpu.to_host(impl.histogram_gpu(gpu.to_device(v), nbins))
        _check_counts(got, reference.histogram_serial(v, nbins), f"histogram_gpu (n={small}, {nbins} bins)")
    n = max(gpu.sizes(part))
    v = rng.integers(0, 100, n).astype(np.int32)
    got = gpu.to_host(impl.histogram_gpu(gpu.to_device(v), 100))
    _check_counts(got, reference.histogram_serial(v, 100), f"histogram_gpu (n={n}, 100 bins)")


@grade(task="dot", part="cpu", points=1)
def test_dot_cpu_random_and_edge_inputs(impl, reference, spec):
    _dot_race_free(impl)
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
    _dot_race_free(impl)
    ones = np.ones(1_000_001)
    assert_real_close(impl.dot_cpu(ones, ones), 1_000_001.0, rel=0, abs=1e-6, what="dot_cpu of two vectors of ones")
    assert_real_close(impl.dot_cpu(np.array([3.0]), np.array([-2.0])), -6.0, what="dot_cpu of size 1")


@grade(task="dot", part="cpu", points=1)
def test_dot_cpu_loses_no_update_under_contention(impl, reference):
    """First a traced run (threads sharing a partial sum are found whatever the machine's load), then
    positive products (a lost update always shows), sizes from ten thousand to a million, called
    again and again, with more threads than usual too."""
    rng = hidden_rng(98)
    traced = _dot_race_free(impl)
    cases = []
    for n in (10_007, 100_003, 1_000_003):
        a, b = rng.uniform(0.5, 1.5, n), rng.uniform(0.5, 1.5, n)
        cases.append((a, b, reference.dot_serial(a, b)))

    def check(case, call):
        a, b, want = case
        got = impl.dot_cpu(a, b)
        what = f"dot_cpu (n={a.size}, positive values, call {call})"
        assert_real_close(got, want, rel=1e-9, abs=0.0, what=what, reveal=False, total=True)

    _hammer(cases, check, contention_seconds(CONTENTION_S["dot"], traced))


@grade(task="dot", part="gpu", points=2)
def test_dot_gpu_random_and_edge_inputs(impl, reference, spec, gpu):
    rng = hidden_rng(8)
    for n in gpu.sizes(spec.part("dot", "gpu")):
        a, b = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
        got = impl.dot_gpu(gpu.to_device(a), gpu.to_device(b))
        assert type(got) in REAL_TYPES, f"dot_gpu should return a float, got {type(got).__name__}"
        tol = 1e-9 * float(np.abs(a * b).sum()) + 1e-300
        assert_real_close(got, reference.dot_serial(a, b), rel=0, abs=tol, what=f"dot_gpu (n={n})", reveal=False)
