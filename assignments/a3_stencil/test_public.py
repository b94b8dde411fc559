"""Public tests for a3: run them with `grader test a3`.

The hidden tests used for the final grade check the same things on more images (random values
from an unseen seed, every pair of side lengths from the spec, so images of 1 x 1, single rows
and columns, tall and wide ones, none a multiple of the tile; impulses in the corners, constant,
checkerboard and very large or very small values) and check that the input is left untouched.
"""

import numpy as np

from grader.perf import grade_cpu_speedup, grade_gpu_speedup
from grader.testkit import assert_array_close, assert_int_equal, assert_race_free, assert_real_close, grade


def _image(rows, cols, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (rows, cols))


def _blurred(reference, image):
    out = np.empty_like(image)
    reference.blur_serial(image, out)
    return out


def _timed_shape(perf):
    cols = int(perf.params["cols"])
    return perf.size // cols, cols


def _into(fn, shape):
    """fn(image, out) as a function of the image alone, writing into one buffer kept across calls
    (allocating a fresh output each call would time the operating system handing out pages)."""
    out = np.empty(shape)

    def call(image):
        fn(image, out)
        return out

    return call


@grade(task="blur", part="cpu", points=1)
def test_blur_cpu_matches_serial(impl, reference):
    assert_race_free(impl.blur_cpu, _image(17, 23), np.zeros((17, 23)))  # prange threads that share scratch memory
    image = _image(123, 45)
    out = np.full_like(image, np.nan)
    impl.blur_cpu(image, out)
    assert_array_close(out, _blurred(reference, image), what="blur_cpu(image, out): out")


@grade(task="blur", part="gpu", points=1)
def test_blur_gpu_matches_serial(impl, reference, gpu):
    image = _image(19, 37)  # not square, not a multiple of the tile: 2 x 3 blocks
    got = gpu.to_host(impl.blur_gpu(gpu.to_device(image)))
    assert_array_close(got, _blurred(reference, image), what="blur_gpu(image)")


@grade(task="blur", part="cpu", kind="performance", points=3)
def test_blur_cpu_speedup(impl, reference, solution, spec, cores, grading):
    perf = spec.part("blur", "cpu").performance
    shape = _timed_shape(perf)
    grade_cpu_speedup(
        grading,
        perf,
        cores,
        baseline=_into(reference.blur_serial, shape),
        candidate=_into(impl.blur_cpu, shape),
        inputs=[_image(*shape, seed=s) for s in range(2)],
        reference=_into(solution.blur_cpu, shape) if solution else None,
    )


@grade(task="blur", part="gpu", kind="performance", points=2)
def test_blur_gpu_speedup(impl, reference, spec, gpu, grading):
    gpu.require_real_gpu()
    perf = spec.part("blur", "gpu").performance
    shape = _timed_shape(perf)
    grade_gpu_speedup(
        grading,
        perf,
        gpu,
        baseline=_into(reference.blur_serial, shape),
        candidate=impl.blur_gpu,
        inputs=[_image(*shape, seed=s) for s in range(2)],
    )


# ------------------------------------------------------------------------- task traffic


@grade(task="traffic", part="python", points=1)
def test_traffic_examples(impl):
    assert_real_close(impl.loads_per_output(16, 1), 324 / 256, what="loads_per_output(16, 1)")
    assert_real_close(impl.loads_per_output(8, 0), 1.0, what="loads_per_output(8, 0), no halo,")
    assert_int_equal(impl.tiled_loads(32, 32, 16, 1), 4 * 324, what="tiled_loads(32, 32, 16, 1)")
    assert_int_equal(impl.tiled_loads(17, 1, 16, 1), 2 * 324, what="tiled_loads(17, 1, 16, 1)")
    assert_int_equal(impl.warp_segments(1), 2, what="warp_segments(1), 32 neighbouring float64 values,")
    assert_int_equal(impl.warp_segments(1000), 32, what="warp_segments(1000), every thread a row apart,")
