"""Public tests for a5: run them with `grader test a5`.

The hidden tests used for the final grade check the same things on more inputs (random images and
streams from an unseen seed, image sizes that are not multiples of the tile or block size, one
pixel, empty and one-chunk streams, stages that are slow, jittery or raise, sixteen threads adding
into one total with the interpreter switching threads as often as it can) and check that your
processes really are processes, that your queues are bounded, and that no thread is left running.
Each pipeline test stops after a few seconds: a pipeline that deadlocks loses that test's points
with a `timeout` instead of hanging the grader.
"""

import numpy as np
import pytest

from grader.perf import grade_cpu_speedup, grade_gpu_speedup
from grader.testkit import INT_TYPES, assert_array_close, assert_int_equal, assert_real_close, grade

PIPELINE_TIMEOUT_S = 5  # seconds a pipeline test may run (its body); a correct pipeline needs well under one

# ------------------------------------------------------------------------- task tiles


def plane(height, width, seed=0):
    """Points of a random window of the complex plane around the Mandelbrot set, shape (2, height, width)."""
    rng = np.random.default_rng(seed)
    x0, y0 = rng.uniform(-2.0, 0.0), rng.uniform(-1.2, 0.2)
    re = np.linspace(x0, x0 + rng.uniform(0.5, 2.0), width)
    im = np.linspace(y0, y0 + rng.uniform(0.5, 2.0), height)
    return np.stack(np.broadcast_arrays(re[None, :], im[:, None])).astype(np.float64)


def skewed_plane(height, width, seed=0):
    """All the expensive pixels (inside the set) in the top half, all the cheap ones (far outside) below."""
    rng = np.random.default_rng(seed)
    pts = np.empty((2, height, width))
    top = height // 2
    pts[0, :top] = rng.uniform(-0.5, 0.2, (top, width))  # inside the main cardioid: max_iter steps each
    pts[1, :top] = rng.uniform(-0.4, 0.4, (top, width))
    pts[:, top:] = rng.uniform(2.5, 3.0, (2, height - top, width))  # escapes after one step
    return pts


@grade(task="tiles", part="cpu", points=1)
def test_tiles_cpu_matches_serial(impl, reference, spec):
    max_iter = spec.part("tiles", "cpu").params["max_iter"]
    pts = plane(100, 70)
    assert_array_close(impl.tiles_cpu(pts, max_iter, 2), reference.tiles_serial(pts, max_iter), what="tiles_cpu")


@grade(task="tiles", part="cpu", points=1)
def test_tiles_processes_matches_serial(impl, reference, spec):
    max_iter = spec.part("tiles", "cpu").params["max_iter"]
    pts = plane(70, 100, seed=1)
    assert_array_close(impl.tiles_processes(pts, max_iter, 2), reference.tiles_serial(pts, max_iter), what="tiles_processes")


@grade(task="tiles", part="cpu", kind="performance", points=3)
def test_tiles_dynamic_beats_static(impl, reference, solution, spec, cores, grading):
    """Your dynamic schedule against the course's static one (tiles_static), both with 2 workers."""
    perf = spec.part("tiles", "cpu").performance
    max_iter, workers = perf.params["max_iter"], perf.params["workers"]
    side = int(round(perf.size**0.5))
    grade_cpu_speedup(
        grading,
        perf,
        cores,
        baseline=lambda pts: reference.tiles_static(pts, max_iter, workers),
        candidate=lambda pts: impl.tiles_cpu(pts, max_iter, workers),
        inputs=[skewed_plane(side, side, seed=s) for s in range(2)],
        reference=(lambda pts: solution.tiles_cpu(pts, max_iter, workers)) if solution else None,
    )


@grade(task="tiles", part="gpu", points=1)
def test_tiles_gpu_matches_serial(impl, reference, spec, gpu):
    max_iter = spec.part("tiles", "gpu").params["max_iter"]
    pts = plane(17, 20)
    got = gpu.to_host(impl.tiles_gpu(gpu.to_device(pts), max_iter))
    assert_array_close(got, reference.tiles_serial(pts, max_iter), what="tiles_gpu")


@grade(task="tiles", part="gpu", kind="performance", points=2)
def test_tiles_gpu_speedup(impl, reference, spec, gpu, grading):
    gpu.require_real_gpu()
    perf = spec.part("tiles", "gpu").performance
    max_iter = perf.params["max_iter"]
    side = int(round(perf.size**0.5))
    grade_gpu_speedup(
        grading,
        perf,
        gpu,
        baseline=lambda pts: reference.tiles_serial(pts, max_iter),
        candidate=lambda pts: impl.tiles_gpu(pts, max_iter),
        inputs=[plane(side, side, seed=s) for s in range(2)],
    )


# ------------------------------------------------------------------------- task pipeline


def stream(count, length, seed=0):
    """`count` chunks of raw readings, as the rows of one array."""
    return np.random.default_rng(seed).uniform(-3.0, 3.0, (count, length))


def as_array(results):
    """A pipeline's list of per-chunk floats as one array, for the checks (its type is checked first)."""
    assert type(results) is list, f"the pipeline should return a list, got {type(results).__name__}"
    return np.asarray(results, dtype=np.float64)


@pytest.fixture
def stages(reference):
    """The course's three stages, compiled before the test body (and its time limit) starts."""
    reference.pipeline_serial([np.zeros(4)])
    return reference.load_chunk, reference.transform_chunk, reference.reduce_chunk


@pytest.mark.timeout(PIPELINE_TIMEOUT_S, func_only=True)
@grade(task="pipeline", part="cpu", points=1)
def test_pipeline_cpu_matches_serial(impl, reference, spec, stages):
    maxsize = spec.part("pipeline", "cpu").params["maxsize"]
    chunks = list(stream(7, 1000))
    want = reference.pipeline_serial(chunks)
    got = impl.pipeline_cpu(chunks, *stages, maxsize)
    assert_array_close(as_array(got), np.asarray(want), rtol=0, atol=0, what="pipeline_cpu (7 chunks)")


@grade(task="pipeline", part="cpu", kind="performance", points=3)
def test_pipeline_cpu_speedup(impl, reference, solution, spec, cores, grading):
    """Stages overlapped in threads against the same stages one after the other."""
    perf = spec.part("pipeline", "cpu").performance
    count, maxsize = perf.params["chunks"], perf.params["maxsize"]
    stages = (reference.load_chunk, reference.transform_chunk, reference.reduce_chunk)

    def serial(rows):
        return np.asarray(reference.pipeline_serial(list(rows), *stages))

    def mine(rows):
        return as_array(impl.pipeline_cpu(list(rows), *stages, maxsize))

    grade_cpu_speedup(
        grading,
        perf,
        cores,
        baseline=serial,
        candidate=mine,
        inputs=[stream(count, perf.size // count, seed=s) for s in range(2)],
        reference=(lambda rows: np.asarray(solution.pipeline_cpu(list(rows), *stages, maxsize))) if solution else None,
    )


@grade(task="pipeline", part="gpu", points=1)
def test_pipeline_gpu_matches_serial(impl, reference, spec, gpu):
    nstreams = spec.part("pipeline", "gpu").params["nstreams"]
    chunks = list(stream(3, 129, seed=2))
    got = impl.pipeline_gpu(chunks, nstreams)
    assert type(got) is list and len(got) == 3, "pipeline_gpu should return a list with one float per chunk"
    for i, (g, w) in enumerate(zip(got, reference.pipeline_serial(chunks), strict=True)):
        assert_real_close(g, w, rel=1e-9, what=f"pipeline_gpu: chunk {i}")


@grade(task="pipeline", part="gpu", kind="performance", points=2)
def test_pipeline_gpu_speedup(impl, reference, spec, gpu, grading):
    """Host chunks in, host results out: the copies are timed, so overlapping them with the
    kernels on several streams is what makes this fast."""
    gpu.require_real_gpu()
    perf = spec.part("pipeline", "gpu").performance
    count, nstreams = perf.params["chunks"], perf.params["nstreams"]
    grade_gpu_speedup(
        grading,
        perf,
        gpu,
        baseline=lambda rows: np.asarray(reference.pipeline_serial(list(rows))),
        candidate=lambda rows: as_array(impl.pipeline_gpu(list(rows), nstreams)),
        inputs=[stream(count, perf.size // count, seed=s) for s in range(2)],
        copies_included=True,
    )


# ------------------------------------------------------------------------- task counter


def numbers(count, length, seed=0):
    """`count` chunks of `length` integers in [1, 10**6), as the rows of one int64 array."""
    return np.random.default_rng(seed).integers(1, 1_000_000, (count, length), dtype=np.int64)


@grade(task="counter", part="cpu", points=1)
def test_counter_locked_matches_serial(impl, reference):
    chunks = list(numbers(40, 50))
    want = reference.counter_serial(chunks)
    assert_int_equal(impl.counter_locked(chunks, 4), want, what="counter_locked (4 workers)", total=True)


@grade(task="counter", part="cpu", kind="performance", points=2)
def test_counter_cpu_speedup(impl, reference, solution, spec, cores, grading):
    perf = spec.part("counter", "cpu").performance
    count, workers = perf.params["chunks"], perf.params["workers"]

    def as_total(value):
        assert type(value) in INT_TYPES, f"counter_cpu should return an int, got {type(value).__name__}"
        return np.asarray([value], dtype=np.int64)

    grade_cpu_speedup(
        grading,
        perf,
        cores,
        baseline=lambda rows: np.asarray([reference.counter_serial(rows)], dtype=np.int64),
        candidate=lambda rows: as_total(impl.counter_cpu(list(rows), workers)),
        inputs=[numbers(count, perf.size // count, seed=s) for s in range(2)],
        reference=(lambda rows: np.asarray([solution.counter_cpu(list(rows), workers)], dtype=np.int64)) if solution else None,
    )


@grade(task="counter", part="gpu", points=1)
def test_counter_gpu_matches_serial(impl, reference, gpu):
    values = numbers(1, 300, seed=3)[0]
    got = impl.counter_gpu(gpu.to_device(values))
    assert_int_equal(got, reference.counter_serial([values]), what="counter_gpu (300 values)", total=True)


@grade(task="counter", part="gpu", kind="performance", points=1)
def test_counter_gpu_speedup(impl, reference, spec, gpu, grading):
    gpu.require_real_gpu()
    perf = spec.part("counter", "gpu").performance
    grade_gpu_speedup(
        grading,
        perf,
        gpu,
        baseline=lambda v: np.asarray([reference.counter_serial([v])], dtype=np.int64),
        candidate=lambda v: np.asarray([impl.counter_gpu(v)], dtype=np.int64),
        inputs=[numbers(1, perf.size, seed=s)[0] for s in range(2)],
    )
