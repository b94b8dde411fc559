"""Public tests for a2: run them with `grader test a2`.

The hidden tests used for the final grade check the same things on more inputs (random values
from an unseen seed, skewed data with every value in one bin, sizes that are not multiples of any
block size, size 1, other integer dtypes) and hammer the histogram to expose lost updates.
"""

import time

import numpy as np

from grader.perf import grade_cpu_speedup, grade_gpu_speedup
from grader.testkit import assert_array_close, assert_counts, assert_race_free, assert_real_close, grade

# ------------------------------------------------------------------------- task histogram


def _values(n, nbins, seed=0, dtype=np.int32):
    return np.random.default_rng(seed).integers(0, nbins, n).astype(dtype)


@grade(task="histogram", part="cpu", points=1)
def test_histogram_cpu_matches_serial(impl, reference, spec):
    nbins = spec.part("histogram", "cpu").params["nbins"]
    # First a traced run: prange threads that update the same bin are found on any machine.
    assert_race_free(impl.histogram_cpu, _values(4099, 3), 3)
    v = _values(100_003, nbins)
    assert_counts(impl.histogram_cpu(v, nbins), reference.histogram_serial(v, nbins), what="histogram_cpu")
    # Then two bins, a million values, called again and again for about a second: where threads
    # collide most. A race may still slip through one run; the hidden tests try much harder.
    v = _values(1_000_000, 2, seed=1)
    want = reference.histogram_serial(v, 2)
    started = time.perf_counter()
    for call in range(1, 200):
        assert_counts(impl.histogram_cpu(v, 2), want, what=f"histogram_cpu (2 bins, call {call})")
        if time.perf_counter() - started > 1.0:
            break


@grade(task="histogram", part="gpu", points=1)
def test_histogram_gpu_matches_serial(impl, reference, spec, gpu):
    nbins = spec.part("histogram", "gpu").params["nbins"]
    v = _values(300, nbins)
    got = gpu.to_host(impl.histogram_gpu(gpu.to_device(v), nbins))
    assert_counts(got, reference.histogram_serial(v, nbins), what="histogram_gpu")


@grade(task="histogram", part="gpu", kind="performance", points=2)
def test_histogram_gpu_speedup(impl, reference, spec, gpu, grading):
    gpu.require_real_gpu()
    perf = spec.part("histogram", "gpu").performance
    nbins = perf.params["nbins"]
    grade_gpu_speedup(
        grading,
        perf,
        gpu,
        baseline=lambda v: reference.histogram_serial(v, nbins),
        candidate=lambda v: impl.histogram_gpu(v, nbins),
        inputs=[_values(perf.size, nbins, seed=s) for s in range(3)],
    )


# ------------------------------------------------------------------------- task dot


def _vectors(n, seed=0):
    """a and b stacked as the two rows of one array (timing redraws a few elements of it each round)."""
    return np.random.default_rng(seed).uniform(-1, 1, (2, n))


def _as_array(value):
    """A scalar result as a 1-element array, for the timed-output check (its type is checked elsewhere)."""
    return np.asarray([value], dtype=np.float64)


def _dot_check(n):
    """A timed dot of n terms in [-1, 1] is right within what adding them in another order may
    change: their terms cancel, so the bound scales with their absolute sum (at most n), not the result."""
    return lambda got, want: assert_array_close(got, want, rtol=0, atol=1e-9 * n, what="timed result")


@grade(task="dot", part="cpu", points=1)
def test_dot_cpu_matches_serial(impl, reference):
    assert_race_free(impl.dot_cpu, *_vectors(4099))  # prange threads that share a partial sum
    a, b = _vectors(100_003)
    assert_real_close(impl.dot_cpu(a, b), reference.dot_serial(a, b), rel=1e-9, abs=1e-9, what="dot_cpu(a, b)")
    a, b = np.abs(a) + 0.5, np.abs(b) + 0.5  # positive products: a lost update can only make it smaller
    want = reference.dot_serial(a, b)
    assert_real_close(impl.dot_cpu(a, b), want, rel=1e-9, what="dot_cpu(a, b) of positive vectors", total=True)


@grade(task="dot", part="gpu", points=1)
def test_dot_gpu_matches_serial(impl, reference, gpu):
    a, b = _vectors(300)
    got = impl.dot_gpu(gpu.to_device(a), gpu.to_device(b))
    assert_real_close(got, reference.dot_serial(a, b), rel=1e-9, abs=1e-9, what="dot_gpu(a, b)")


@grade(task="dot", part="cpu", kind="performance", points=3)
def test_dot_cpu_speedup(impl, reference, solution, spec, cores, grading):
    perf = spec.part("dot", "cpu").performance
    grade_cpu_speedup(
        grading,
        perf,
        cores,
        baseline=lambda ab: _as_array(reference.dot_serial(ab[0], ab[1])),
        candidate=lambda ab: _as_array(impl.dot_cpu(ab[0], ab[1])),
        inputs=[_vectors(perf.size, seed=s) for s in range(2)],
        reference=(lambda ab: _as_array(solution.dot_cpu(ab[0], ab[1]))) if solution else None,
        check=_dot_check(perf.size),
    )


@grade(task="dot", part="gpu", kind="performance", points=2)
def test_dot_gpu_speedup(impl, reference, spec, gpu, grading):
    gpu.require_real_gpu()
    perf = spec.part("dot", "gpu").performance
    grade_gpu_speedup(
        grading,
        perf,
        gpu,
        baseline=lambda ab: _as_array(reference.dot_serial(ab[0], ab[1])),
        candidate=lambda ab: _as_array(impl.dot_gpu(ab[0], ab[1])),
        inputs=[_vectors(perf.size, seed=s) for s in range(2)],
        check=_dot_check(perf.size),
    )
