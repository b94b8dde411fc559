"""Hidden tests for a6 (instructors only; never released).

Random values from a seed students cannot see; lengths 0 and 1, one GPU block -1, 0 and +1, and
lengths that need two and three levels of block sums; int32 input whose sums overflow int32 (the
spec says int64 sums); float input of mixed signs and magnitudes, compared with a tolerance that
grows with the number and size of the terms each prefix adds (any order of the additions is
right); all elements kept and none kept; kept elements bunched at one end (chunks of very
different counts); more numba threads than elements; outputs that start as garbage; inputs left
untouched; repeated calls. Every CPU correctness test begins with a traced run of the prange loops
(`assert_race_free`), then the contention test calls the functions again and again with several
thread counts, for code the trace cannot follow. Failure messages do not reveal expected values.
"""

import time

import numpy as np
import pytest
from numba import config as numba_config
from numba import get_num_threads, set_num_threads

from grader.testkit import (
    assert_array_close,
    assert_int_equal,
    assert_race_free,
    assert_real_close,
    contention_seconds,
    grade,
    hidden_rng,
)

CONTENTION_S = 2.0  # how long the contention tests keep calling (untraced code)
_wall = time.perf_counter  # bound before any student code is imported
_MOST_THREADS = numba_config.NUMBA_NUM_THREADS  # what the grading worker may start, read before any student code
INT32_MAX = int(np.iinfo(np.int32).max)


def _thread_counts():
    """1, the usual count (a thread per core) and more, up to what the worker may start."""
    usual = get_num_threads()
    return list(dict.fromkeys([usual, 1, min(2 * usual, _MOST_THREADS), _MOST_THREADS]))


def _hammer(cases, check, seconds):
    """Call ``check(case, calls)`` for ``seconds`` (at least twice per case and thread count),
    cycling through the cases and the numba thread counts; the usual count is restored after."""
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


def _values(rng, n, dtype):
    if np.dtype(dtype).kind == "f":
        mixed = rng.uniform(-1.0, 1.0, n) * 10.0 ** rng.integers(-3, 4, n)  # signs and magnitudes mixed
        return mixed.astype(dtype)
    return rng.integers(-1000, 1000, n).astype(dtype)


def _out_dtype(x):
    return np.float64 if x.dtype.kind == "f" else np.int64


def _poisoned(n, dtype):
    return np.full(n, np.nan if np.dtype(dtype).kind == "f" else np.iinfo(np.int64).min, dtype=dtype)


def _scanned(reference, x, inclusive):
    out = np.empty(x.shape[0], dtype=_out_dtype(x))
    reference.scan_serial(x, out, inclusive)
    return out


def _order_tolerance(x):
    """Float prefix sums added in another order (or an exclusive one taken as an inclusive one less
    its element) differ from the left-to-right sums by up to about (terms) * eps * (sum of |terms|):
    at position i, 4 * (i + 2) * eps * (|x[0]| + ... + |x[i]|), growing along the array as the sums do."""
    magnitude = np.cumsum(np.abs(x.astype(np.float64)))
    terms = np.arange(2, x.shape[0] + 2, dtype=np.float64)
    return 4 * np.finfo(np.float64).eps * terms * magnitude + 1e-300


def _check_scan(got, x, want, inclusive, what):
    if x.dtype.kind == "f":
        assert_array_close(got, want, rtol=0, atol=_order_tolerance(x), what=what, reveal=False)
    else:
        assert_array_close(got, want, what=what, reveal=False)


def _mode(inclusive):
    return "inclusive" if inclusive else "exclusive"


def _scan_cpu_once(impl, reference, x, inclusive, what):
    before = x.copy()
    out = _poisoned(x.shape[0], _out_dtype(x))
    result = impl.scan_cpu(x, out, inclusive)
    assert result is None or result is out, f"{what}: scan_cpu should write into out and return nothing"
    assert np.array_equal(x, before), f"{what}: scan_cpu modified its input x"
    _check_scan(out, x, _scanned(reference, x, inclusive), inclusive, what)


def _scan_race_free(impl):
    """A traced run of scan_cpu's prange loops on a few small inputs (a list: every input is traced
    even after one the trace could not judge). Returns whether the trace judged them all."""
    rng = hidden_rng(60)
    cases = [(_values(rng, 4099, np.int32), np.int64, True), (_values(rng, 1031, np.float64), np.float64, False)]
    return all([assert_race_free(impl.scan_cpu, x, np.zeros(x.shape[0], dtype=d), inc) for x, d, inc in cases])


def _compact_race_free(impl):
    rng = hidden_rng(61)
    x = _values(rng, 4099, np.float64)
    return all([assert_race_free(impl.compact_cpu, x, t) for t in (0.0, -1e9)])


def _check_kept(got, want, what):
    """The kept elements, in order; a result with the right elements in another order says so."""
    if (
        type(got) is np.ndarray
        and got.shape == want.shape
        and got.dtype == want.dtype
        and not np.array_equal(got, want)
        and np.array_equal(np.sort(got), np.sort(want))
    ):
        first = int(np.argmax(got != want))
        raise AssertionError(f"{what}: the right elements, but not in their order in x (first out of place at index {first})")
    assert_array_close(got, want, what=what, reveal=False)


def _thresholds(x):
    """About half kept, all kept, none kept (strictly greater: an element equal to the threshold is
    not kept). Always floats: each new argument type would compile the student's code again."""
    if x.shape[0] == 0:
        return [0.0]
    lo, hi = float(x.min()), float(x.max())
    return [float(np.median(x)), lo - 1.0, hi]


# ------------------------------------------------------------------------- task workspan


@grade(task="workspan", part="python", points=1)
def test_workspan_cases_and_invalid_arguments(impl):
    for n, chunks in ((0, 1), (1, 1), (7, 3), (100, 7), (10**6, 2), (3, 8)):
        assert_int_equal(impl.two_pass_work(n, chunks), 2 * n + chunks, what=f"two_pass_work({n}, {chunks})", reveal=False)
        want = 2 * (-(-n // chunks)) + chunks
        assert_int_equal(impl.two_pass_span(n, chunks), want, what=f"two_pass_span({n}, {chunks})", reveal=False)
    for n, cores in ((1, 1), (10**6, 2), (10**6, 8), (1000, 64), (5, 2)):
        want = n / (2 * (-(-n // cores)) + cores)
        got = impl.two_pass_speedup(n, cores)
        assert_real_close(got, want, rel=1e-9, what=f"two_pass_speedup({n}, {cores})", reveal=False)
    for a, b in ((4, 8), (8, 8), (1, 1), (8, 4), (2, 16)):
        got = impl.two_pass_traffic(a, b)
        assert_real_close(got, (2 * a + b) / (a + b), rel=1e-9, what=f"two_pass_traffic({a}, {b})", reveal=False)
    bad = [
        (impl.two_pass_work, (-1, 2)),
        (impl.two_pass_work, (10, 0)),
        (impl.two_pass_span, (10, 1.5)),
        (impl.two_pass_span, (True, 2)),
        (impl.two_pass_speedup, (0, 2)),
        (impl.two_pass_speedup, (10, 0)),
        (impl.two_pass_traffic, (0, 8)),
        (impl.two_pass_traffic, (4, 2.5)),
    ]
    for fn, args in bad:
        with pytest.raises(ValueError):
            fn(*args)
            raise AssertionError(f"{fn.__name__}{args} should raise ValueError")


# ------------------------------------------------------------------------- task scan, CPU


@grade(task="scan", part="cpu", points=1)
def test_scan_cpu_sizes_dtypes_and_modes(impl, reference, spec):
    _scan_race_free(impl)
    rng = hidden_rng(100)
    for n in [0, *spec.part("scan", "cpu").sizes]:  # length 0 too (spec sizes are positive)
        for dtype in (np.int32, np.int64, np.float64):
            x = _values(rng, n, dtype)
            for inclusive in (True, False):
                what = f"scan_cpu ({_mode(inclusive)}, n={n}, {np.dtype(dtype).name})"
                _scan_cpu_once(impl, reference, x, inclusive, what)


@grade(task="scan", part="cpu", points=1)
def test_scan_cpu_int32_sums_overflow_into_int64(impl, reference):
    _scan_race_free(impl)
    rng = hidden_rng(101)
    cases = [
        ("elements near the int32 maximum", rng.integers(INT32_MAX - 1000, INT32_MAX, 10_007).astype(np.int32)),
        ("small elements whose chunk totals pass 2**31", rng.integers(2**19, 2**20, 40_009).astype(np.int32)),
        ("elements near the int32 minimum", rng.integers(-INT32_MAX - 1, -INT32_MAX + 1000, 3001).astype(np.int32)),
    ]
    usual = get_num_threads()
    try:
        for threads in _thread_counts():  # several chunk counts: one chunk alone never adds a chunk total
            set_num_threads(threads)
            for label, x in cases:
                for inclusive in (True, False):
                    what = f"scan_cpu ({_mode(inclusive)}, n={x.size}, int32, {label}, {threads} threads)"
                    _scan_cpu_once(impl, reference, x, inclusive, what)
    finally:
        set_num_threads(usual)


@grade(task="scan", part="cpu", points=1)
def test_scan_cpu_repeated_calls_and_thread_counts(impl, reference):
    """First a traced run, then float and integer inputs, some shorter than the thread count,
    scanned again and again with 1, the usual and more numba threads."""
    rng = hidden_rng(102)
    traced = _scan_race_free(impl)
    cases = []
    shapes = [(1, np.int32, True), (3, np.int32, False), (5, np.float64, True)]
    shapes += [(200_003, np.float64, False), (1_000_003, np.int32, True)]
    for n, dtype, inclusive in shapes:
        x = _values(rng, n, dtype)
        cases.append((x, inclusive, _scanned(reference, x, inclusive)))

    def check(case, call):
        x, inclusive, want = case
        out = _poisoned(x.shape[0], _out_dtype(x))
        impl.scan_cpu(x, out, inclusive)
        what = f"scan_cpu ({_mode(inclusive)}, n={x.size}, {x.dtype.name}, {get_num_threads()} threads, call {call})"
        _check_scan(out, x, want, inclusive, what)

    _hammer(cases, check, contention_seconds(CONTENTION_S, traced))


# ------------------------------------------------------------------------- task scan, GPU


def _gpu_sizes(part, gpu):
    """The simulator's largest size runs once, in the several-levels test; the others with every kind of input."""
    sizes = sorted(gpu.sizes(part))
    return sizes[:-1] if gpu.simulated else sizes


def _scan_gpu_once(impl, reference, gpu, x, inclusive, what):
    device = gpu.to_device(x)
    got = gpu.to_host(impl.scan_gpu(device, inclusive))
    _check_scan(got, x, _scanned(reference, x, inclusive), inclusive, what)
    assert np.array_equal(gpu.to_host(device), x), f"{what}: scan_gpu modified its input x"


@grade(task="scan", part="gpu", points=1)
def test_scan_gpu_sizes_dtypes_and_modes(impl, reference, spec, gpu):
    rng = hidden_rng(200)
    for n in [0, *_gpu_sizes(spec.part("scan", "gpu"), gpu)]:
        for dtype in (np.int32, np.float64):
            x = _values(rng, n, dtype)
            for inclusive in (True, False):
                what = f"scan_gpu ({_mode(inclusive)}, n={n}, {np.dtype(dtype).name})"
                _scan_gpu_once(impl, reference, gpu, x, inclusive, what)


@grade(task="scan", part="gpu", points=2)
def test_scan_gpu_several_levels_and_int32_overflow(impl, reference, spec, gpu):
    """The largest size needs block sums of block sums; int32 elements near the maximum overflow
    int32 within one block; a second call must not see the first one's state."""
    rng = hidden_rng(201)
    n = max(gpu.sizes(spec.part("scan", "gpu")))
    x = _values(rng, n, np.int64)
    _scan_gpu_once(impl, reference, gpu, x, True, f"scan_gpu (inclusive, n={n}, int64)")
    x = rng.integers(INT32_MAX - 1000, INT32_MAX, 200).astype(np.int32)
    for inclusive in (False, True):
        _scan_gpu_once(impl, reference, gpu, x, inclusive, f"scan_gpu ({_mode(inclusive)}, n=200, int32 near the maximum)")
    if not gpu.simulated:
        x = _values(rng, n, np.float64)
        _scan_gpu_once(impl, reference, gpu, x, False, f"scan_gpu (exclusive, n={n}, float64)")


# ------------------------------------------------------------------------- task compact


@grade(task="compact", part="cpu", points=1)
def test_compact_cpu_sizes_dtypes_and_thresholds(impl, reference, spec):
    _compact_race_free(impl)
    rng = hidden_rng(300)
    for n in [0, *spec.part("compact", "cpu").sizes]:
        for dtype in (np.int32, np.int64, np.float64):
            x = _values(rng, n, dtype)
            for threshold in _thresholds(x):
                before = x.copy()
                what = f"compact_cpu (n={n}, {np.dtype(dtype).name}, threshold {threshold:g})"
                _check_kept(impl.compact_cpu(x, threshold), reference.compact_serial(x, threshold), what)
                assert np.array_equal(x, before), f"{what}: compact_cpu modified its input x"


@grade(task="compact", part="cpu", points=1)
def test_compact_cpu_bunched_and_repeated(impl, reference):
    """Kept elements bunched at one end (chunks with very different counts), duplicates, called
    again and again with 1, the usual and more numba threads."""
    rng = hidden_rng(301)
    traced = _compact_race_free(impl)
    cases = []
    for n in (2, 5, 10_007, 300_001):
        ramp = np.linspace(-1.0, 1.0, n) + rng.uniform(0, 1e-3, n)  # the kept ones all in the second half
        cases.append((ramp, 0.0))
        cases.append((ramp[::-1].copy(), 0.0))  # all in the first half
        cases.append((rng.integers(0, 3, n).astype(np.int32), 1.0))  # duplicates
    cases = [(x, t, reference.compact_serial(x, t)) for x, t in cases]

    def check(case, call):
        x, threshold, want = case
        what = f"compact_cpu (n={x.size}, {x.dtype.name}, {get_num_threads()} threads, call {call})"
        _check_kept(impl.compact_cpu(x, threshold), want, what)

    _hammer(cases, check, contention_seconds(CONTENTION_S, traced))


@grade(task="compact", part="gpu", points=1)
def test_compact_gpu_sizes_dtypes_and_thresholds(impl, reference, spec, gpu):
    rng = hidden_rng(400)
    for n in [0, *_gpu_sizes(spec.part("compact", "gpu"), gpu)]:
        for dtype in (np.int32, np.float64):
            x = _values(rng, n, dtype)
            for threshold in _thresholds(x):
                what = f"compact_gpu (n={n}, {np.dtype(dtype).name}, threshold {threshold:g})"
                got = gpu.to_host(impl.compact_gpu(gpu.to_device(x), threshold))
                _check_kept(got, reference.compact_serial(x, threshold), what)


@grade(task="compact", part="gpu", points=1)
def test_compact_gpu_bunched_many_blocks(impl, reference, spec, gpu):
    """The largest size, its kept elements bunched in the second half (whole blocks keep nothing,
    others everything) and then spread out; the input stays untouched."""
    rng = hidden_rng(401)
    n = max(gpu.sizes(spec.part("compact", "gpu")))
    ramp = np.linspace(-1.0, 1.0, n) + rng.uniform(0, 1e-3, n)
    for x in (ramp, rng.permutation(ramp)):
        device = gpu.to_device(x)
        got = gpu.to_host(impl.compact_gpu(device, 0.0))
        _check_kept(got, reference.compact_serial(x, 0.0), f"compact_gpu (n={n}, kept elements bunched or spread)")
        assert np.array_equal(gpu.to_host(device), x), "compact_gpu modified its input x"
