"""Public tests for a6: run them with `grader test a6`.

The hidden tests used for the final grade check the same things on more inputs (random values
from an unseen seed; lengths 0, 1, one block -1, 0 and +1, and lengths that need two and three
levels of block sums; int32 values whose sums overflow int32; float values of mixed signs and
magnitudes; all elements kept and none kept; more threads than elements) and call the CPU
functions again and again with several thread counts.
"""

import numpy as np
import pytest

from grader.perf import grade_cpu_speedup, grade_gpu_speedup
from grader.testkit import assert_array_close, assert_int_equal, assert_race_free, assert_real_close, grade

# ------------------------------------------------------------------------- task workspan


@grade(task="workspan", part="python", points=1)
def test_workspan_examples(impl):
    assert_int_equal(impl.two_pass_work(10, 2), 22, what="two_pass_work(10, 2)")
    assert_int_equal(impl.two_pass_span(10, 2), 12, what="two_pass_span(10, 2)")
    assert_int_equal(impl.two_pass_span(10, 3), 11, what="two_pass_span(10, 3), chunks of 3, 3 and 4,")
    assert_real_close(impl.two_pass_speedup(1000, 4), 1000 / 504, what="two_pass_speedup(1000, 4)")
    assert_real_close(impl.two_pass_traffic(8, 8), 1.5, what="two_pass_traffic(8, 8), float64 in and out,")
    with pytest.raises(ValueError):
        impl.two_pass_work(10, 0)


# ------------------------------------------------------------------------- task scan


def _values(n, dtype=np.int32, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.uniform(-1.0, 1.0, n).astype(dtype)
    return rng.integers(-1000, 1000, n).astype(dtype)


def _out_dtype(x):
    return np.float64 if x.dtype.kind == "f" else np.int64


def _scanned(reference, x, inclusive):
    out = np.empty(x.shape[0], dtype=_out_dtype(x))
    reference.scan_serial(x, out, inclusive)
    return out


def _scan_tolerance(x):
    """Float prefix sums added in another order (or an exclusive one taken as an inclusive one less
    its element) differ from the left-to-right sums by up to about (terms) * eps * (sum of |terms|):
    at position i, 4 * (i + 2) * eps * (|x[0]| + ... + |x[i]|), growing along the array as the sums do."""
    magnitude = np.cumsum(np.abs(x.astype(np.float64)))
    terms = np.arange(2, x.shape[0] + 2, dtype=np.float64)
    return 4 * np.finfo(np.float64).eps * terms * magnitude + 1e-300


def _check_scan(got, x, want, inclusive, what):
    if x.dtype.kind == "f":
        assert_array_close(got, want, rtol=0, atol=_scan_tolerance(x), what=what)
    else:
        assert_array_close(got, want, what=what)


def _poisoned(n, dtype):
    return np.full(n, np.nan if np.dtype(dtype).kind == "f" else np.iinfo(np.int64).min, dtype=dtype)


@grade(task="scan", part="cpu", points=1)
def test_scan_cpu_matches_serial(impl, reference):
    small = _values(4099)
    assert_race_free(impl.scan_cpu, small, np.zeros(4099, dtype=np.int64), True)  # threads sharing an element
    for dtype in (np.int32, np.float64):
        x = _values(100_003, dtype)
        for inclusive in (True, False):
            out = _poisoned(x.shape[0], _out_dtype(x))
            impl.scan_cpu(x, out, inclusive)
            what = f"scan_cpu(x, out, inclusive={inclusive}) for {np.dtype(dtype).name} x: out"
            _check_scan(out, x, _scanned(reference, x, inclusive), inclusive, what)


@grade(task="scan", part="gpu", points=1)
def test_scan_gpu_matches_serial(impl, reference, gpu):
    x = _values(300)  # 5 blocks of 64, the last one partial
    for inclusive in (True, False):
        got = gpu.to_host(impl.scan_gpu(gpu.to_device(x), inclusive))
        assert_array_close(got, _scanned(reference, x, inclusive), what=f"scan_gpu(x, inclusive={inclusive})")


def _into(fn, n):
    """fn(x, out, True) as a function of x alone, writing into one int64 buffer kept across calls
    (a fresh output of 64 MB or more each call would time the operating system handing out pages)."""
    out = np.empty(n, dtype=np.int64)

    def call(x):
        fn(x, out, True)
        return out

    return call


@grade(task="scan", part="cpu", kind="performance", points=3)
def test_scan_cpu_speedup(impl, reference, solution, spec, cores, grading):
    perf = spec.part("scan", "cpu").performance
    grade_cpu_speedup(
        grading,
        perf,
        cores,
        baseline=_into(reference.scan_serial, perf.size),
        candidate=_into(impl.scan_cpu, perf.size),
        inputs=[_values(perf.size, seed=s) for s in range(2)],
        reference=_into(solution.scan_cpu, perf.size) if solution else None,
    )


@grade(task="scan", part="gpu", kind="performance", points=2)
def test_scan_gpu_speedup(impl, reference, spec, gpu, grading):
    gpu.require_real_gpu()
    perf = spec.part("scan", "gpu").performance
    grade_gpu_speedup(
        grading,
        perf,
        gpu,
        baseline=_into(reference.scan_serial, perf.size),
        candidate=lambda x: impl.scan_gpu(x, True),
        inputs=[_values(perf.size, seed=s) for s in range(2)],
    )


# ------------------------------------------------------------------------- task compact


def _check_kept(got, want, what):
    """The kept elements, in order: a result with the right elements in another order says so."""
    if (
        type(got) is np.ndarray
        and got.shape == want.shape
        and got.dtype == want.dtype
        and not np.array_equal(got, want)
        and np.array_equal(np.sort(got), np.sort(want))
    ):
        first = int(np.argmax(got != want))
        raise AssertionError(
            f"{what}: the right elements, but not in their order in x (first out of place at index {first}): "
            "each chunk or thread must write its kept elements from its own start position, in order"
        )
    assert_array_close(got, want, what=what)


@grade(task="compact", part="cpu", points=1)
def test_compact_cpu_matches_serial(impl, reference):
    assert_race_free(impl.compact_cpu, _values(4099, np.float64), 0.0)
    x = _values(100_003, np.float64)
    for threshold in (0.0, -2.0, 2.0):  # about half kept, all kept, none kept
        what = f"compact_cpu(x, {threshold})"
        _check_kept(impl.compact_cpu(x, threshold), reference.compact_serial(x, threshold), what)


@grade(task="compact", part="cpu", kind="performance", points=2)
def test_compact_cpu_speedup(impl, reference, solution, spec, cores, grading):
    perf = spec.part("compact", "cpu").performance
    grade_cpu_speedup(
        grading,
        perf,
        cores,
        baseline=lambda x: reference.compact_serial(x, 0.0),
        candidate=lambda x: impl.compact_cpu(x, 0.0),
        inputs=[_values(perf.size, np.float64, seed=s) for s in range(2)],
        reference=(lambda x: solution.compact_cpu(x, 0.0)) if solution else None,
    )


@grade(task="compact", part="gpu", points=1)
def test_compact_gpu_matches_serial(impl, reference, gpu):
    x = _values(300, np.float64)
    for threshold in (0.0, -2.0):
        got = gpu.to_host(impl.compact_gpu(gpu.to_device(x), threshold))
        _check_kept(got, reference.compact_serial(x, threshold), f"compact_gpu(x, {threshold})")


@grade(task="compact", part="gpu", kind="performance", points=2)
def test_compact_gpu_speedup(impl, reference, spec, gpu, grading):
    gpu.require_real_gpu()
    perf = spec.part("compact", "gpu").performance
    grade_gpu_speedup(
        grading,
        perf,
        gpu,
        baseline=lambda x: reference.compact_serial(x, 0.0),
        candidate=lambda x: impl.compact_gpu(x, 0.0),
        inputs=[_values(perf.size, np.float64, seed=s) for s in range(2)],
    )
