"""Hidden tests for a5 (instructors only; never released).

Random images and streams from a seed students cannot see; image sizes that are not multiples of
the tile or block size, and one pixel; empty and one-chunk streams; stages that jitter, are slow or
raise; many threads adding into one total while the interpreter switches threads as often as it
can; inputs left untouched; processes that really are processes; bounded queues; no thread left
running. Failure messages do not reveal expected values (reveal=False).

Every pipeline test has a short limit of its own (pytest-timeout, counted from the test body, so
compiling the staff kernels in the fixture does not eat into it): a deadlocked pipeline costs its
test a few seconds and a `timeout`, and the grader carries on with the next test.
"""

import os
import random
import sys
import threading
import time

import numpy as np
import pytest

from grader.testkit import HIDDEN_SEED, INT_TYPES, assert_array_close, assert_real_close, grade, hidden_rng

PIPELINE_TIMEOUT_S = 5  # as in the public tests


def _plane(height, width, salt):
    rng = hidden_rng(salt)
    x0, y0 = rng.uniform(-2.0, 0.0), rng.uniform(-1.2, 0.2)
    re = np.linspace(x0, x0 + rng.uniform(0.3, 2.0), width)
    im = np.linspace(y0, y0 + rng.uniform(0.3, 2.0), height)
    return np.stack(np.broadcast_arrays(re[None, :], im[:, None])).astype(np.float64)


def _shapes(sizes):
    """(height, width) pairs from the spec's edge lengths: squares, thin strips, 1 x 1."""
    out = [(1, 1)]
    for s in sizes:
        out += [(s, s), (1, s), (s, 3)]
    return list(dict.fromkeys(out))


def _counts(got, want, what):
    assert type(got) is np.ndarray, f"{what} should return a numpy array, got {type(got).__name__}"
    assert got.dtype == np.int32, f"{what} should return int32 counts, got {got.dtype}"
    assert_array_close(got, want, what=what, reveal=False)


# ------------------------------------------------------------------------- task tiles


@grade(task="tiles", part="cpu", points=1)
def test_tiles_cpu_random_and_edge_images(impl, reference, spec):
    part = spec.part("tiles", "cpu")
    max_iter = part.params["max_iter"]
    for k, (h, w) in enumerate(_shapes(part.sizes)):
        pts = _plane(h, w, salt=k)
        before = pts.copy()
        for workers in (1, 2, 3):
            got = impl.tiles_cpu(pts, max_iter, workers)
            _counts(got, reference.tiles_serial(pts, max_iter), f"tiles_cpu ({h}x{w}, {workers} workers)")
        assert np.array_equal(pts, before), "tiles_cpu must not modify its input"


@grade(task="tiles", part="cpu", points=1)
def test_tiles_processes_random_edge_images_in_worker_processes(impl, reference, spec):
    """Right counts, and the work done by child processes: their CPU time (reaped children) must show it."""
    part = spec.part("tiles", "cpu")
    max_iter = part.params["max_iter"]
    for k, (h, w) in enumerate([(1, 1), (33, 31), (100, 65)]):
        pts = _plane(h, w, salt=100 + k)
        before = pts.copy()
        _counts(impl.tiles_processes(pts, max_iter, 2), reference.tiles_serial(pts, max_iter), f"tiles_processes ({h}x{w})")
        assert np.array_equal(pts, before), "tiles_processes must not modify its input"
    # Heavy enough that the children's CPU time is measurable: every pixel inside the set.
    pts = np.zeros((2, 128, 128))
    pts[0] = hidden_rng(7).uniform(-0.5, 0.2, (128, 128))
    pts[1] = hidden_rng(8).uniform(-0.3, 0.3, (128, 128))
    t0 = time.perf_counter()
    want = reference.tiles_serial(pts, 2000)
    serial_s = time.perf_counter() - t0
    c0 = os.times()
    got = impl.tiles_processes(pts, 2000, 2)
    c1 = os.times()
    _counts(got, want, "tiles_processes (128x128, every pixel inside the set)")
    children = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
    assert children >= 0.3 * serial_s, (
        "tiles_processes should do the work in worker processes (and wait for them): "
        f"its child processes used {children:.2f} s of CPU for about {serial_s:.2f} s of work"
    )


@grade(task="tiles", part="gpu", points=2)
def test_tiles_gpu_random_and_edge_images(impl, reference, spec, gpu):
    part = spec.part("tiles", "gpu")
    max_iter = part.params["max_iter"]
    small, large = min(gpu.sizes(part)), max(gpu.sizes(part))  # one pixel, and sizes that are not whole blocks
    shapes = [(1, 1), (small, large), (large, 3), (large - 1, large + 1)]
    for k, (h, w) in enumerate(shapes):
        pts = _plane(h, w, salt=200 + k)
        got = gpu.to_host(impl.tiles_gpu(gpu.to_device(pts), max_iter))
        _counts(got, reference.tiles_serial(pts, max_iter), f"tiles_gpu ({h}x{w})")


# ------------------------------------------------------------------------- task pipeline


@pytest.fixture
def stages(reference):
    """The staff stages, compiled before the timed test body starts."""
    x = np.zeros(4)
    reference.reduce_chunk(reference.transform_chunk(reference.load_chunk(x)))
    return reference.load_chunk, reference.transform_chunk, reference.reduce_chunk


def _threads_left(before: set) -> list[str]:
    """Threads started during the call that are still alive a moment after it returned."""
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not left:
            return []
        time.sleep(0.02)
    return [t.name for t in left]


def _run(impl, chunks, load, transform, reduce, maxsize, what):
    before = set(threading.enumerate())
    try:
        return impl.pipeline_cpu(chunks, load, transform, reduce, maxsize)
    finally:
        left = _threads_left(before)
        assert not left, f"{what}: {len(left)} thread(s) still running after pipeline_cpu returned"


def _same(got, want, what):
    assert type(got) is list, f"{what} should return a list, got {type(got).__name__}"
    if len(got) != len(want):
        raise AssertionError(f"{what} returned {len(got)} results for {len(want)} chunks (lost or duplicated chunks)")
    wrong = [i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
    assert not wrong, f"{what}: {len(wrong)} of {len(want)} results wrong or out of order; first at position {wrong[0]}"


@pytest.mark.timeout(PIPELINE_TIMEOUT_S, func_only=True)
@grade(task="pipeline", part="cpu", points=1)
def test_pipeline_cpu_random_streams_in_order(impl, reference, spec, stages):
    part = spec.part("pipeline", "cpu")
    rng = hidden_rng(300)
    for n in part.sizes:
        for maxsize in (1, part.params["maxsize"]):
            rows = rng.uniform(-3, 3, (n, int(rng.integers(1, part.params["chunk"]))))
            before = rows.copy()
            want = reference.pipeline_serial(list(rows), *stages)
            _same(
                _run(impl, list(rows), *stages, maxsize, f"pipeline_cpu ({n} chunks, maxsize {maxsize})"),
                want,
                f"pipeline_cpu ({n} chunks, maxsize {maxsize})",
            )
            got = _run(impl, (row for row in rows), *stages, maxsize, "pipeline_cpu (a generator)")
            _same(got, want, f"pipeline_cpu ({n} chunks from a generator)")
            assert np.array_equal(rows, before), "pipeline_cpu must not modify its input"


def _jittery(fn, rng):
    """A stage that takes a random little while: stages finish out of step, as real ones do."""
    lock = threading.Lock()

    def stage(x):
        with lock:
            pause = rng.random() * 0.002
        time.sleep(pause)
        return fn(x)

    return stage


@pytest.mark.timeout(PIPELINE_TIMEOUT_S, func_only=True)
@grade(task="pipeline", part="cpu", points=1)
def test_pipeline_cpu_every_chunk_once_in_order_with_jittery_stages(impl):
    """Chunks tagged with their position: the results must be exactly 0, 1, ..., n-1."""
    rng = random.Random(HIDDEN_SEED)
    for n, maxsize in ((60, 1), (60, 3), (25, 8)):
        chunks = [np.full(3, float(i)) for i in range(n)]
        got = _run(
            impl,
            chunks,
            _jittery(lambda c: c + 0.0, rng),
            _jittery(lambda c: c * 2.0, rng),
            _jittery(lambda c: int(c[0]) // 2, rng),
            maxsize,
            "pipeline_cpu",
        )
        _same(got, list(range(n)), f"pipeline_cpu ({n} tagged chunks, stages of uneven speed, maxsize {maxsize})")


class StageFailed(ValueError):
    pass


def _failing_at(k, fn):
    def stage(x):
        if int(x[0]) == k:
            raise StageFailed(f"chunk {k} is broken")
        return fn(x)

    return stage


def _source(n, fail_at=None):
    for i in range(n):
        if i == fail_at:
            raise StageFailed(f"the source failed at chunk {i}")
        yield np.full(2, float(i))


@pytest.mark.timeout(PIPELINE_TIMEOUT_S, func_only=True)
@grade(task="pipeline", part="cpu", points=1)
def test_pipeline_cpu_exception_in_any_stage_reaches_the_caller(impl):
    """A failure anywhere stops the pipeline and is raised in the caller: never swallowed, never a hang."""
    ident, tag = (lambda c: c), (lambda c: int(c[0]))
    cases = {
        "the source (a generator)": (lambda: _source(40, fail_at=5), ident, ident, tag),
        "load": (lambda: _source(40), _failing_at(5, ident), ident, tag),
        "transform": (lambda: _source(40), ident, _failing_at(5, ident), tag),
        "reduce": (lambda: _source(40), ident, ident, _failing_at(5, tag)),
        "transform, on the last chunk": (lambda: _source(40), ident, _failing_at(39, ident), tag),
        "transform, on the first chunk with maxsize 1": (lambda: _source(40), ident, _failing_at(0, ident), tag),
    }
    for where, (source, load, transform, reduce) in cases.items():
        maxsize = 1 if "maxsize 1" in where else 2
        try:
            _run(impl, source(), load, transform, reduce, maxsize, f"pipeline_cpu (failure in {where})")
        except StageFailed:
            continue
        raise AssertionError(f"pipeline_cpu: an exception raised in {where} did not reach the caller")


@pytest.mark.timeout(PIPELINE_TIMEOUT_S, func_only=True)
@grade(task="pipeline", part="cpu", points=1)
def test_pipeline_cpu_empty_and_tiny_streams_and_bounded_queues(impl, stages):
    """An empty stream ends with []; one chunk works; a fast source never runs far ahead of a slow end."""
    _same(_run(impl, [], *stages, 4, "pipeline_cpu (empty stream)"), [], "pipeline_cpu (an empty stream)")
    _same(_run(impl, iter(()), *stages, 1, "pipeline_cpu (empty generator)"), [], "pipeline_cpu (an empty generator)")
    one = [np.linspace(-1, 1, 5)]
    load, transform, reduce = stages
    _same(_run(impl, one, *stages, 1, "pipeline_cpu (one chunk)"), [reduce(transform(load(one[0])))], "pipeline_cpu (one chunk)")

    # Back-pressure: with queues of maxsize m, at most about 2m + 3 chunks can be loaded but not yet
    # reduced (m in each queue, one in each stage's hands). Unbounded queues load everything at once.
    maxsize, n = 2, 40
    ahead = {"loaded": 0, "reduced": 0, "most": 0}
    lock = threading.Lock()

    def counting_load(c):
        with lock:
            ahead["loaded"] += 1
            ahead["most"] = max(ahead["most"], ahead["loaded"] - ahead["reduced"])
        return c

    def slow_reduce(c):
        time.sleep(0.003)
        with lock:
            ahead["reduced"] += 1
        return int(c[0])

    got = _run(impl, _source(n), counting_load, lambda c: c, slow_reduce, maxsize, "pipeline_cpu (slow reduce)")
    _same(got, list(range(n)), "pipeline_cpu (a fast source and a slow reduce)")
    limit = 2 * maxsize + 4
    assert ahead["most"] <= limit, (
        f"pipeline_cpu loaded {ahead['most']} chunks ahead of the reduce stage with maxsize={maxsize} "
        f"(at most {limit} fit in bounded queues): use queue.Queue(maxsize)"
    )


@grade(task="pipeline", part="gpu", points=2)
def test_pipeline_gpu_random_streams(impl, reference, spec, gpu):
    part = spec.part("pipeline", "gpu")
    rng = hidden_rng(400)
    sizes = gpu.sizes(part)
    for nstreams in (1, part.params["nstreams"], 3):
        chunks = [rng.uniform(-3, 3, int(sizes[i % len(sizes)])) for i in range(4)]
        before = [c.copy() for c in chunks]
        got = impl.pipeline_gpu(chunks, nstreams)
        assert type(got) is list, f"pipeline_gpu should return a list, got {type(got).__name__}"
        assert len(got) == len(chunks), f"pipeline_gpu returned {len(got)} results for {len(chunks)} chunks"
        for i, (g, w) in enumerate(zip(got, reference.pipeline_serial(chunks), strict=True)):
            assert_real_close(g, w, rel=1e-9, what=f"pipeline_gpu ({nstreams} streams): chunk {i}", reveal=False)
        assert all(np.array_equal(a, b) for a, b in zip(chunks, before, strict=True)), "pipeline_gpu must not modify its input"
    assert impl.pipeline_gpu([], 2) == [], "pipeline_gpu of an empty stream should return []"


# ------------------------------------------------------------------------- task counter


class _FastSwitching:
    """The interpreter hands the GIL over as often as it can: a read-modify-write not under a lock gets interrupted."""

    def __enter__(self):
        self.before = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)

    def __exit__(self, *exc):
        sys.setswitchinterval(self.before)


def _total(got, want, what):
    assert type(got) in INT_TYPES, f"{what} should return an int, got {type(got).__name__}"
    assert int(got) == want, f"{what} is wrong (off by {abs(int(got) - want)} steps: lost or repeated updates)"


def _chunks(count, salt, low=1, high=1_000_000):
    rng = hidden_rng(salt)
    return [rng.integers(low, high, int(rng.integers(1, 40)), dtype=np.int64) for _ in range(count)]


@grade(task="counter", part="cpu", points=1)
def test_counter_locked_loses_no_update_under_contention(impl, reference):
    """Sixteen threads, hundreds of small chunks, fast thread switching, several rounds."""
    chunks = _chunks(400, salt=500)
    want = reference.counter_serial(chunks)
    with _FastSwitching():
        for workers in (16, 7, 2):
            _total(impl.counter_locked(chunks, workers), want, f"counter_locked ({workers} workers, 400 chunks)")


@grade(task="counter", part="cpu", points=1)
def test_counter_cpu_random_and_edge_streams(impl, reference, spec):
    rng = hidden_rng(600)
    for n in spec.part("counter", "cpu").sizes:
        values = rng.integers(1, 1_000_000, n, dtype=np.int64)
        for parts in (1, 3, n):
            chunks = [c for c in np.array_split(values, parts)]
            before = values.copy()
            for workers in (1, 2, 5):
                what = f"counter_cpu ({n} values, {workers} workers)"
                _total(impl.counter_cpu(chunks, workers), reference.counter_serial(chunks), what)
            assert np.array_equal(values, before), "counter_cpu must not modify its input"
    _total(impl.counter_cpu([np.ones(5, dtype=np.int64)], 2), 0, "counter_cpu of only ones")
    _total(impl.counter_cpu([], 2), 0, "counter_cpu of no chunks")


@grade(task="counter", part="cpu", points=1)
def test_counter_cpu_loses_no_update_under_contention(impl, reference):
    chunks = _chunks(300, salt=700)
    want = reference.counter_serial(chunks)
    with _FastSwitching():
        for workers in (16, 3):
            _total(impl.counter_cpu(chunks, workers), want, f"counter_cpu ({workers} workers, 300 chunks)")


@grade(task="counter", part="gpu", points=1)
def test_counter_gpu_random_and_edge_inputs(impl, reference, spec, gpu):
    rng = hidden_rng(800)
    for n in gpu.sizes(spec.part("counter", "gpu")):
        for high in (3, 1_000_000):
            values = rng.integers(1, high, n, dtype=np.int64)
            _total(impl.counter_gpu(gpu.to_device(values)), reference.counter_serial([values]), f"counter_gpu ({n} values)")
