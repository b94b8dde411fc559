"""Public tests for a4: run them with `grader test a4`.

The hidden tests used for the final grade check the same things on more inputs: rectangular shapes
that are not multiples of TILE (n, k and m all different), 1 x 1 matrices, a row times a column,
an outer product, values of very different magnitudes, exact integer-valued products, inputs left
untouched, and a CPU test that would catch threads adding into the same element of C.
"""

import numpy as np
import pytest

from grader.perf import grade_cpu_speedup, grade_gpu_speedup
from grader.testkit import assert_array_close, assert_int_equal, assert_race_free, assert_real_close, grade


def _matrix(rows, cols, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (rows, cols))


def _pair(n, seed=0):
    """A and B (both n x n) stacked as one array, values in [0, 1): timing redraws a few elements
    of it each round, and positive values keep every sum far from cancellation."""
    return np.random.default_rng(seed).uniform(0, 1, (2, n, n))


@grade(task="matmul", part="cpu", points=1)
def test_matmul_cpu_matches_serial(impl, reference):
    # First a traced run: prange threads that share scratch memory or elements of C are found on any machine.
    assert_race_free(impl.matmul_cpu, _matrix(13, 6, seed=5), _matrix(6, 9, seed=6))
    A, B = _matrix(100, 70, seed=1), _matrix(70, 90, seed=2)
    assert_array_close(impl.matmul_cpu(A, B), reference.matmul_serial(A, B), what="matmul_cpu(A, B) for (100x70) @ (70x90)")


@grade(task="matmul", part="gpu", points=1)
def test_matmul_gpu_matches_serial(impl, reference, gpu):
    A, B = _matrix(19, 19, seed=3), _matrix(19, 19, seed=4)
    got = gpu.to_host(impl.matmul_gpu(gpu.to_device(A), gpu.to_device(B)))
    assert_array_close(got, reference.matmul_serial(A, B), what="matmul_gpu(A, B) for (19x19) @ (19x19)")


@grade(task="matmul", part="cpu", kind="performance", points=3)
def test_matmul_cpu_speedup(impl, reference, solution, spec, cores, grading):
    perf = spec.part("matmul", "cpu").performance
    grade_cpu_speedup(
        grading,
        perf,
        cores,
        baseline=lambda ab: reference.matmul_serial(ab[0], ab[1]),
        candidate=lambda ab: impl.matmul_cpu(ab[0], ab[1]),
        inputs=[_pair(perf.size, seed=s) for s in range(2)],
        reference=(lambda ab: solution.matmul_cpu(ab[0], ab[1])) if solution else None,
    )


@grade(task="matmul", part="gpu", kind="performance", points=2)
def test_matmul_gpu_speedup(impl, reference, spec, gpu, grading):
    gpu.require_real_gpu()
    perf = spec.part("matmul", "gpu").performance
    grade_gpu_speedup(
        grading,
        perf,
        gpu,
        baseline=lambda ab: reference.matmul_serial(ab[0], ab[1]),
        candidate=lambda ab: impl.matmul_gpu(ab[0], ab[1]),
        inputs=[_pair(perf.size, seed=s) for s in range(2)],
    )


# ------------------------------------------------------------------------- task intensity


@grade(task="intensity", part="python", points=1)
def test_intensity_examples(impl):
    # naive kernel, n = 4: 128 flops for 8 * (2 * 64 + 16) = 1152 bytes
    assert_real_close(impl.arithmetic_intensity(4, 1), 128 / 1152, what="arithmetic_intensity(4, 1)")
    # 2 x 2 tiles halve the reads: 128 flops for 8 * (64 + 16) = 640 bytes
    assert_real_close(impl.arithmetic_intensity(4, 2), 128 / 640, what="arithmetic_intensity(4, 2)")
    assert_real_close(impl.attainable_gflops(0.5, 1000.0, 100.0), 50.0, what="attainable_gflops(0.5, 1000, 100), memory-bound,")
    assert_real_close(
        impl.attainable_gflops(20.0, 1000.0, 100.0), 1000.0, what="attainable_gflops(20, 1000, 100), compute-bound,"
    )
    # ridge point 1000 / 100 = 10 flops per byte: tile 64 gives 7.76, tile 128 gives 15.06
    assert_int_equal(
        impl.smallest_compute_bound_tile(1024, 1000.0, 100.0), 128, what="smallest_compute_bound_tile(1024, 1000, 100)"
    )
    with pytest.raises(ValueError):
        impl.arithmetic_intensity(10, 3)
