"""Hidden tests for a3 (instructors only; never released).

Random values from a seed students cannot see; images built from pairs of the spec's side lengths
(1 x 1, single rows and columns, tall and wide, none a multiple of the tile, so a swapped x/y or a
short halo shows); impulses in the corners and on the edges (where the boundary rule decides the
answer), constant and checkerboard images, tiny and huge values; the input left untouched and the
whole output written; two calls in a row (no output shared between calls); the CPU blur called
again and again with more threads than usual (a buffer shared by the rows races); every argument of
the traffic functions given a value the docstrings reject. Failure messages do not reveal expected
values (reveal=False).
"""

import time

import numpy as np
import pytest
from numba import config as numba_config
from numba import get_num_threads, set_num_threads

from grader.testkit import (
    INT_TYPES,
    assert_array_close,
    assert_race_free,
    assert_real_close,
    contention_seconds,
    grade,
    hidden_rng,
)

CONTENTION_S = 2.0  # how long the contention test keeps calling (untraced code)
_wall = time.perf_counter  # bound before any student code is imported
_MOST_THREADS = numba_config.NUMBA_NUM_THREADS  # what the grading worker may start, read before any student code


def _blurred(reference, image):
    out = np.empty_like(image)
    reference.blur_serial(image, out)
    return out


def _close(got, want, image, what):
    # Rounding depends on the order of the nine additions: allow for it relative to the largest
    # pixel (a checkerboard of +-1e12 blurs to values near 0 with errors near 1e-4).
    scale = float(np.abs(image).max()) if image.size else 0.0
    assert_array_close(got, want, rtol=1e-12, atol=1e-12 * scale + 1e-300, what=what, reveal=False)


def _images(rows, cols, rng):
    """(label, image) pairs of one shape: the kinds of content that catch different mistakes."""
    yield "uniform", rng.uniform(-1.0, 1.0, (rows, cols))
    yield "tiny values", rng.uniform(0.0, 1e-300, (rows, cols))
    yield "huge values", rng.uniform(-1e300, 1e300, (rows, cols))
    corners = np.zeros((rows, cols))
    for r, c in ((0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1)):
        corners[r, c] += float(rng.uniform(1.0, 2.0))
    yield "impulses in the corners", corners
    edges = rng.uniform(-1.0, 1.0, (rows, cols))
    edges[1:-1, 1:-1] = 0.0
    yield "only the border pixels set", edges
    yield "constant", np.full((rows, cols), float(rng.uniform(-1e6, 1e6)))
    checker = np.indices((rows, cols)).sum(axis=0) % 2 * 2.0 - 1.0
    yield "checkerboard", checker * 1e12 + rng.uniform(-1.0, 1.0, (rows, cols))
    skewed = np.zeros((rows, cols))
    hot = rng.random((rows, cols)) < 0.05
    skewed[hot] = rng.uniform(1e6, 1e9, int(hot.sum()))
    yield "mostly zero, a few large", skewed


def _cpu_shapes(sides):
    return [(r, c) for r in sides for c in sides]  # every pair: wide, tall and square


def _gpu_shapes(sides, simulated):
    """1 x 1, then each side with the next (cyclically): e.g. 1 x 18, 18 x 33, 33 x 1. The simulator
    affords only these; on a GPU the transposed pairs too."""
    pairs = [(1, 1)] + list(zip(sides, sides[1:] + sides[:1], strict=True))
    if not simulated:
        pairs += [(c, r) for r, c in pairs]
    return list(dict.fromkeys(pairs))


# ------------------------------------------------------------------------- task blur


def _blur_race_free(impl):
    """A traced run (`assert_race_free`): prange threads sharing scratch memory, or reading rows of
    `out` another thread writes, are found whatever the machine's load. Every CPU correctness test
    starts with it, so racy code loses the whole line in every run. Returns whether the trace judged
    the loops (see `contention_seconds`)."""
    rng = hidden_rng(5)
    shapes = ((17, 23), (9, 64))
    # a list, not a generator: every input is traced even after one the trace could not judge
    return all([assert_race_free(impl.blur_cpu, rng.uniform(-1.0, 1.0, s), np.zeros(s)) for s in shapes])


@grade(task="blur", part="cpu", points=1)
def test_blur_cpu_random_shapes_and_values(impl, reference, spec):
    _blur_race_free(impl)
    rng = hidden_rng(1)
    for rows, cols in _cpu_shapes(spec.part("blur", "cpu").sizes):
        for label, image in _images(rows, cols, rng):
            before = image.copy()
            out = np.full_like(image, np.nan)
            returned = impl.blur_cpu(image, out)
            assert returned is None, "blur_cpu(image, out) must return None (the result goes into out)"
            _close(out, _blurred(reference, image), image, f"blur_cpu on a {rows} x {cols} image ({label}): out")
            assert np.array_equal(image, before), "blur_cpu must not modify its input image"
    # Two calls in a row with outputs of the same shape: each result stays in its own `out`.
    first, second = rng.uniform(-1.0, 1.0, (37, 29)), rng.uniform(-1.0, 1.0, (37, 29))
    out_first, out_second = np.full_like(first, np.nan), np.full_like(second, np.nan)
    impl.blur_cpu(first, out_first)
    impl.blur_cpu(second, out_second)
    what = "blur_cpu called twice in a row (37 x 29 images, two outputs): the {} call's out"
    _close(out_first, _blurred(reference, first), first, what.format("first"))
    _close(out_second, _blurred(reference, second), second, what.format("second"))


@grade(task="blur", part="cpu", points=1)
def test_blur_cpu_boundary_rule(impl):
    """The boundary rule on hand-made images: an edge pixel's missing neighbours are copies of the nearest pixel."""
    _blur_race_free(impl)
    image = np.zeros((4, 5))
    image[0, 0] = 16.0
    out = np.full_like(image, np.nan)
    impl.blur_cpu(image, out)
    # The corner sees itself 9 times (weights 4 + 2 + 2 + 1 ... = 9 of 16), its neighbours part of it.
    want = np.zeros((4, 5))
    want[0, 0], want[0, 1], want[1, 0], want[1, 1] = 9.0, 3.0, 3.0, 1.0
    assert_array_close(out, want, what="blur_cpu of a 4 x 5 image with one bright corner pixel", reveal=False)
    single = np.array([[2.5]])
    out = np.full_like(single, np.nan)
    impl.blur_cpu(single, out)
    assert_array_close(out, single, what="blur_cpu of a 1 x 1 image (all its neighbours are itself)", reveal=False)
    row = np.array([[0.0, 16.0, 0.0, 0.0, 32.0]])
    out = np.full_like(row, np.nan)
    impl.blur_cpu(row, out)
    want = np.array([[4.0, 8.0, 4.0, 8.0, 24.0]])
    assert_array_close(out, want, what="blur_cpu of a single-row image", reveal=False)


def _thread_counts():
    """The numba thread counts the contention test cycles through: the usual one (a thread per core)
    and more, up to what the grading worker may start (NUMBA_NUM_THREADS). Racing threads clash
    only while they really run at the same time; on a machine where other jobs keep a core busy, two
    threads may take turns for whole calls, while some of eight rarely do."""
    usual = get_num_threads()
    return list(dict.fromkeys([usual, min(2 * usual, _MOST_THREADS), _MOST_THREADS]))


@grade(task="blur", part="cpu", points=1)
def test_blur_cpu_rows_never_clash(impl, reference):
    """First a traced run (threads sharing scratch memory are found whatever the machine's load),
    then images of a few long rows to many short ones, blurred again and again for a fixed time (the
    busier the machine, the more calls), with more threads than usual too: threads that share any
    scratch memory overwrite each other's rows."""
    rng = hidden_rng(4)
    seconds = contention_seconds(CONTENTION_S, _blur_race_free(impl))
    cases = []
    for rows, cols in ((64, 1000), (256, 256), (16, 10_000), (1000, 64)):
        image = rng.uniform(-1.0, 1.0, (rows, cols))
        cases.append((image, _blurred(reference, image), np.empty_like(image)))
    usual, counts = get_num_threads(), _thread_counts()
    calls, started = 0, _wall()
    try:
        while calls < 2 * len(cases) * len(counts) or _wall() - started < seconds:
            set_num_threads(counts[(calls // len(cases)) % len(counts)])
            image, want, out = cases[calls % len(cases)]
            out.fill(np.nan)
            impl.blur_cpu(image, out)
            calls += 1
            rows, cols = image.shape
            _close(out, want, image, f"blur_cpu on a {rows} x {cols} image (call {calls}): out")
    finally:
        set_num_threads(usual)


@grade(task="blur", part="gpu", points=1)
def test_blur_gpu_random_shapes_and_values(impl, reference, spec, gpu):
    rng = hidden_rng(2)
    shapes = _gpu_shapes(gpu.sizes(spec.part("blur", "gpu")), gpu.simulated)
    kinds = ["uniform", "impulses in the corners", "checkerboard", "huge values"]
    for n, (rows, cols) in enumerate(shapes):
        images = dict(_images(rows, cols, rng))
        # The simulator affords one image per shape (a different kind each time); a GPU all of them.
        chosen = [kinds[n % len(kinds)]] if gpu.simulated else list(images)
        for label in chosen:
            image = images[label]
            device = gpu.to_device(image)
            got = gpu.to_host(impl.blur_gpu(device))
            _close(got, _blurred(reference, image), image, f"blur_gpu on a {rows} x {cols} image ({label})")
            assert np.array_equal(gpu.to_host(device), image), "blur_gpu must not modify its input image"


@grade(task="blur", part="gpu", points=1)
def test_blur_gpu_two_calls_keep_both_results(impl, reference, gpu):
    """Two images of the same shape blurred one after the other: each call returns its own output,
    so the first result is still right after the second call."""
    shape = (7, 20) if gpu.simulated else (1000, 1023)  # the simulator affords two blocks a call
    rng = hidden_rng(5)
    first, second = rng.uniform(-1.0, 1.0, shape), rng.uniform(-1.0, 1.0, shape)
    got_first = impl.blur_gpu(gpu.to_device(first))
    got_second = impl.blur_gpu(gpu.to_device(second))
    what = f"blur_gpu called twice in a row ({shape[0]} x {shape[1]} images): the {{}} result"
    _close(gpu.to_host(got_first), _blurred(reference, first), first, what.format("first"))
    _close(gpu.to_host(got_second), _blurred(reference, second), second, what.format("second"))


# ------------------------------------------------------------------------- task traffic


def _segments(stride, itemsize, warp, segment):
    """An independent count: mark every byte read, then every segment holding a marked byte."""
    read = set()
    for t in range(warp):
        read.update(range(t * stride * itemsize, t * stride * itemsize + itemsize))
    return len({b // segment for b in read})


@grade(task="traffic", part="python", points=1)
def test_traffic_on_random_cases(impl):
    rng = hidden_rng(3)
    for _ in range(200):
        tile, radius = int(rng.integers(1, 65)), int(rng.integers(0, 5))
        want = (tile + 2 * radius) ** 2 / tile**2
        got = impl.loads_per_output(tile, radius)
        assert_real_close(got, want, rel=1e-12, what="loads_per_output on a random case", reveal=False)
        rows, cols = int(rng.integers(1, 5000)), int(rng.integers(1, 5000))
        blocks = ((rows + tile - 1) // tile) * ((cols + tile - 1) // tile)
        got = impl.tiled_loads(rows, cols, tile, radius)
        assert type(got) in INT_TYPES, "tiled_loads must return an int"
        assert int(got) == blocks * (tile + 2 * radius) ** 2, "tiled_loads is wrong on a random case"
    for _ in range(100):
        stride, itemsize = int(rng.integers(0, 40)), int(rng.choice([1, 2, 4, 8, 12, 16]))
        warp, segment = int(rng.choice([1, 7, 16, 32])), int(rng.choice([32, 64, 128]))
        got = impl.warp_segments(stride, itemsize, warp, segment)
        assert type(got) in INT_TYPES, "warp_segments must return an int"
        assert int(got) == _segments(stride, itemsize, warp, segment), "warp_segments is wrong on a random case"
    assert int(impl.warp_segments(0)) == 1, "warp_segments(0): every thread reads the same element"
    assert int(impl.tiled_loads(1, 1, 16, 1)) == 324, "tiled_loads of a 1 x 1 image: one block, one full patch"


# Each function's parameters with the smallest value it accepts: (name, least).
_PARAMETERS = {
    "loads_per_output": (("tile", 1), ("radius", 0)),
    "tiled_loads": (("rows", 1), ("cols", 1), ("tile", 1), ("radius", 0)),
    "warp_segments": (("stride", 0), ("itemsize", 1), ("warp", 1), ("segment", 1)),
}
_VALID = {"tile": 16, "radius": 1, "rows": 33, "cols": 20, "stride": 3, "itemsize": 8, "warp": 32, "segment": 128}


def _invalid_values(least):
    """What the docstrings reject for an integer parameter with this least value: one below it, a
    float with a fraction, a float holding a whole number, and True and False (not integers here)."""
    return (least - 1, least + 0.5, float(least + 1), np.float64(least + 2), True, False)


@grade(task="traffic", part="python", points=1)
def test_traffic_rejects_invalid_arguments(impl):
    """Every parameter of every function, one at a time, given each value it must reject, the
    others valid: each call must raise ValueError."""
    for name, parameters in _PARAMETERS.items():
        fn = getattr(impl, name)
        valid = [_VALID[p] for p, _ in parameters]
        fn(*valid)  # the valid arguments are accepted (an error here is the function's own)
        for k, (parameter, least) in enumerate(parameters):
            for bad in _invalid_values(least):
                args = [*valid[:k], bad, *valid[k + 1 :]]
                with pytest.raises(ValueError):
                    fn(*args)
                    raise AssertionError(f"{name} accepted {parameter}={bad!r} (must raise ValueError)")
