"""Public tests for a1: run them with `grader test a1`.

The hidden tests used for the final grade check the same things on more inputs (random values,
odd sizes, size 1, float32, invalid arguments).
"""

import math

import numpy as np
import pytest

from grader.perf import grade_cpu_speedup, grade_gpu_speedup
from grader.testkit import assert_array_close, assert_int_equal, assert_race_free, assert_real_close, grade

# ------------------------------------------------------------------------- task amdahl


@grade(task="amdahl", part="python", points=1)
def test_amdahl_examples(impl):
    assert_real_close(impl.amdahl_speedup(0.9, 10), 1 / (0.1 + 0.09), what="amdahl_speedup(0.9, 10)")
    assert_real_close(impl.amdahl_speedup(0.0, 8), 1.0, what="amdahl_speedup(0.0, 8), nothing parallel,")
    assert_real_close(impl.karp_flatt(1 / (0.1 + 0.09), 10), 0.1, what="karp_flatt of an Amdahl speedup")
    assert_int_equal(impl.workers_needed(0.9, 5.0), 9, what="workers_needed(0.9, 5.0)")
    with pytest.raises(ValueError):
        impl.amdahl_speedup(1.5, 4)


# ------------------------------------------------------------------------- task fourier


def _inputs(n, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).uniform(-math.pi, math.pi, n).astype(dtype)


@grade(task="fourier", part="cpu", points=1)
def test_fourier_cpu_matches_serial(impl, reference, spec):
    terms = spec.part("fourier", "cpu").params["terms"]
    x = _inputs(1000)
    assert_array_close(impl.fourier_cpu(x, terms), reference.fourier_serial(x, terms), what="fourier_cpu(x)")
    assert_race_free(impl.fourier_cpu, _inputs(257), terms)  # prange threads that share scratch memory


@grade(task="fourier", part="gpu", points=1)
def test_fourier_gpu_matches_serial(impl, reference, spec, gpu):
    terms = spec.part("fourier", "gpu").params["terms"]
    x = _inputs(257)
    out = gpu.to_host(impl.fourier_gpu(gpu.to_device(x), terms))
    assert_array_close(out, reference.fourier_serial(x, terms), what="fourier_gpu(x)")


@grade(task="fourier", part="cpu", kind="performance", points=3)
def test_fourier_cpu_speedup(impl, reference, solution, spec, cores, grading):
    perf = spec.part("fourier", "cpu").performance
    terms = perf.params["terms"]
    grade_cpu_speedup(
        grading,
        perf,
        cores,
        baseline=lambda x: reference.fourier_serial(x, terms),
        candidate=lambda x: impl.fourier_cpu(x, terms),
        inputs=[_inputs(perf.size, seed=s) for s in range(3)],
        reference=(lambda x: solution.fourier_cpu(x, terms)) if solution else None,
    )


@grade(task="fourier", part="gpu", kind="performance", points=2)
def test_fourier_gpu_speedup(impl, reference, spec, gpu, grading):
    gpu.require_real_gpu()
    perf = spec.part("fourier", "gpu").performance
    terms = perf.params["terms"]
    grade_gpu_speedup(
        grading,
        perf,
        gpu,
        baseline=lambda x: reference.fourier_serial(x, terms),
        candidate=lambda x: impl.fourier_gpu(x, terms),
        inputs=[_inputs(perf.size, seed=s) for s in range(3)],
    )
