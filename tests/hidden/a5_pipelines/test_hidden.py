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

from grader.testkit import HIDDEN_SEED, assert_array_close, assert_int_equal, assert_real_close, grade, hidden_rng

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


# max_iter values tried besides the spec's: 1 (every count is 0 or 1), and others that are not the
# spec's, so a kernel or pool that ignores its max_iter argument gets counts of the wrong height.
OTHER_MAX_ITER = (1, 23, 611)


# Contention: a race only shows while two workers really touch shared state at once, so the racy
# parts are exercised with many calls for a fixed time (at least CONTENTION_ROUNDS rounds) rather
# than a fixed count; on a loaded machine each call overlaps less and more calls make up for it.
# Each racy variant in tests/wrong/a5_pipelines/ (a shared scratch tile, a tile counter taken in two
# steps by processes, subtotal slots by chunk, a total without its lock) was caught in at least 19
# of 20 runs of its test, idle and with one core busy, on the 2-core VM while other test runs
# shared it (load 6-22).
CONTENTION_S = 1.5
CONTENTION_ROUNDS = 3


def _for_a_while(seconds=CONTENTION_S, rounds=CONTENTION_ROUNDS):
    """Round numbers 1, 2, ... until at least `seconds` have passed and `rounds` rounds are done."""
    start, done = time.monotonic(), 0
    while done < rounds or time.monotonic() - start < seconds:
        done += 1
        yield done


class _FastSwitching:
    """The interpreter hands the GIL over as often as it can: a read-modify-write not under a lock gets interrupted."""

    def __enter__(self):
        self.before = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)

    def __exit__(self, *exc):
        sys.setswitchinterval(self.before)


def _still_the_same(kept, what):
    """Arrays returned by earlier calls, checked again after later calls: each call must return its own array."""
    for got, then, label in kept:
        assert np.array_equal(got, then), (
            f"{label}: the array it returned changed during later calls ({what} must return a new array each call)"
        )


@grade(task="tiles", part="cpu", points=1)
def test_tiles_cpu_random_and_edge_images(impl, reference, spec):
    part = spec.part("tiles", "cpu")
    iters = (part.params["max_iter"], *OTHER_MAX_ITER)
    kept = []
    for k, (h, w) in enumerate(_shapes(part.sizes)):
        pts = _plane(h, w, salt=k)
        before = pts.copy()
        for j, workers in enumerate((1, 2, 3, 7)):
            max_iter = iters[(k + j) % len(iters)]
            got = impl.tiles_cpu(pts, max_iter, workers)
            label = f"tiles_cpu ({h}x{w}, max_iter {max_iter}, {workers} workers)"
            _counts(got, reference.tiles_serial(pts, max_iter), label)
            kept.append((got, got.copy(), label))
        assert np.array_equal(pts, before), "tiles_cpu must not modify its input"
    _still_the_same(kept, "tiles_cpu")
    # Contention: many cheap tiles and several workers, over and over, with fast thread switching:
    # workers that share a counter, a canvas or any other state without care lose or mix tiles.
    cases = []
    for k, (h, w, workers) in enumerate([(384, 384, 8), (256, 320, 4), (320, 256, 2)]):
        pts = _plane(h, w, salt=20 + k)
        cases.append((pts, workers, reference.tiles_serial(pts, 30), f"tiles_cpu ({h}x{w}, {workers} workers)"))
    with _FastSwitching():
        for round_ in _for_a_while():
            for pts, workers, want, label in cases:
                _counts(impl.tiles_cpu(pts, 30, workers), want, f"{label}, called again and again (round {round_})")


@grade(task="tiles", part="cpu", points=1)
def test_tiles_processes_random_edge_images_in_worker_processes(impl, reference, spec):
    """Right counts, and the work done by child processes: their CPU time (reaped children) must show it."""
    part = spec.part("tiles", "cpu")
    max_iter = part.params["max_iter"]
    kept = []
    cases = [(1, 1, max_iter, 2), (33, 31, OTHER_MAX_ITER[1], 3), (100, 65, max_iter, 2), (40, 70, OTHER_MAX_ITER[2], 1)]
    for k, (h, w, iters, workers) in enumerate(cases):
        pts = _plane(h, w, salt=100 + k)
        before = pts.copy()
        got = impl.tiles_processes(pts, iters, workers)
        label = f"tiles_processes ({h}x{w}, max_iter {iters}, {workers} workers)"
        _counts(got, reference.tiles_serial(pts, iters), label)
        kept.append((got, got.copy(), label))
        assert np.array_equal(pts, before), "tiles_processes must not modify its input"
    _still_the_same(kept, "tiles_processes")
    # Contention: thousands of tiny tiles (one pixel high), so the workers spend their time
    # taking tiles from whatever they share, long enough that all of them are running, over and
    # over: a tile taken twice or never shows.
    cases = []
    for k, (h, w, workers) in enumerate([(1, 32 * 20000, 2), (1, 32 * 12000, 4)]):
        pts = _plane(h, w, salt=120 + k)
        cases.append((pts, workers, reference.tiles_serial(pts, 30), f"tiles_processes ({h}x{w}, {workers} workers)"))
    for round_ in _for_a_while():
        for pts, workers, want, label in cases:
            _counts(impl.tiles_processes(pts, 30, workers), want, f"{label}, called again and again (round {round_})")
    # Heavy enough that the children's CPU time is measurable: every pixel inside the set.
    pts = np.zeros((2, 128, 128))
    pts[0] = hidden_rng(7).uniform(-0.5, 0.2, (128, 128))
    pts[1] = hidden_rng(8).uniform(-0.3, 0.3, (128, 128))
    t0 = time.thread_time()  # CPU time, as the children's is: wall time grows on a loaded machine, CPU time does not
    want = reference.tiles_serial(pts, 2000)
    serial_s = time.thread_time() - t0
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
    # The spec's max_iter and others (a kernel must stop at the max_iter it is given), on images
    # of one pixel and of several blocks that are not whole blocks.
    cases = [(1, 1, 1), (small, large, max_iter), (large, 3, OTHER_MAX_ITER[1]), (large - 1, large + 1, max_iter)]
    cases += [(large + 1, large - 1, 2 * max_iter + 7)]
    kept = []
    for k, (h, w, iters) in enumerate(cases):
        pts = _plane(h, w, salt=200 + k)
        out = impl.tiles_gpu(gpu.to_device(pts), iters)
        _counts(gpu.to_host(out), reference.tiles_serial(pts, iters), f"tiles_gpu ({h}x{w}, max_iter {iters})")
        kept.append((out, pts, iters, f"tiles_gpu ({h}x{w}, max_iter {iters})"))
    # Read back again after all later calls: each call must return a device array of its own.
    for out, pts, iters, label in kept:
        _counts(gpu.to_host(out), reference.tiles_serial(pts, iters), f"{label}, read back again after later calls")


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
    # Stages that stall for 0.2-0.45 s on a few chunks and a source that is slow to produce some:
    # a stage must wait for its input however long it takes (only the end of the stream, passed
    # down the pipeline, ends it), so nothing is lost or cut short.
    for maxsize in (1, 3):
        n = 9
        got = _run(
            impl,
            _slow_source(n, {2: 0.3}),
            _stalls({4: 0.2}, lambda c: c + 0.0),
            _stalls({1: 0.45, 6: 0.25}, lambda c: c * 2.0),
            _stalls({7: 0.2}, lambda c: int(c[0]) // 2),
            maxsize,
            "pipeline_cpu",
        )
        _same(got, list(range(n)), f"pipeline_cpu ({n} chunks, stages that stall for up to 0.45 s, maxsize {maxsize})")


def _stalls(pauses, fn):
    """A stage that sleeps `pauses[i]` seconds on the chunk tagged i (the tag is the chunk's first value)."""

    def stage(x):
        time.sleep(pauses.get(int(x[0]) if np.ndim(x) else int(x), 0.0))
        return fn(x)

    return stage


def _slow_source(n, pauses):
    """A generator that takes `pauses[i]` seconds to produce chunk i."""
    for i in range(n):
        time.sleep(pauses.get(i, 0.0))
        yield np.full(3, float(i))


class StageFailed(ValueError):
    pass


RAISED: list[BaseException] = []  # the exception objects the failing stages raised, newest last


def _failing_at(k, fn):
    def stage(x):
        if int(x[0]) == k:
            RAISED.append(StageFailed(f"chunk {k} is broken"))
            raise RAISED[-1]
        return fn(x)

    return stage


def _source(n, fail_at=None):
    for i in range(n):
        if i == fail_at:
            RAISED.append(StageFailed(f"the source failed at chunk {i}"))
            raise RAISED[-1]
        yield np.full(2, float(i))


@pytest.mark.timeout(PIPELINE_TIMEOUT_S, func_only=True)
@grade(task="pipeline", part="cpu", points=1)
def test_pipeline_cpu_exception_in_any_stage_reaches_the_caller(impl):
    """A failure anywhere stops the pipeline and is raised in the caller, the same exception object:
    never swallowed, never wrapped or replaced, never a hang."""
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
        RAISED.clear()
        try:
            _run(impl, source(), load, transform, reduce, maxsize, f"pipeline_cpu (failure in {where})")
        except StageFailed as exc:
            assert RAISED and exc is RAISED[-1], (
                f"pipeline_cpu: the exception raised in {where} reached the caller as another object "
                "(raise the same exception object again)"
            )
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
    for nstreams in (1, part.params["nstreams"], 3, 6):  # 6: more streams than chunks
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


def _total(got, want, what):
    assert_int_equal(got, want, what=what, reveal=False, total=True)


def _chunks(count, salt, low=1, high=1_000_000):
    rng = hidden_rng(salt)
    return [rng.integers(low, high, int(rng.integers(1, 40)), dtype=np.int64) for _ in range(count)]


@grade(task="counter", part="cpu", points=1)
def test_counter_locked_loses_no_update_under_contention(impl, reference):
    """Up to sixteen threads, hundreds of small chunks, fast thread switching, for a fixed time."""
    chunks = _chunks(400, salt=500)
    want = reference.counter_serial(chunks)
    with _FastSwitching():
        for round_ in _for_a_while():
            for workers in (16, 7, 2):
                what = f"counter_locked ({workers} workers, 400 chunks, round {round_})"
                _total(impl.counter_locked(chunks, workers), want, what)


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
    """Per-thread totals merged at the end: up to sixteen threads, fast switching, for a fixed time."""
    chunks = _chunks(300, salt=700)
    want = reference.counter_serial(chunks)
    with _FastSwitching():
        for round_ in _for_a_while():
            for workers in (16, 3, 2):
                what = f"counter_cpu ({workers} workers, 300 chunks, round {round_})"
                _total(impl.counter_cpu(chunks, workers), want, what)


@grade(task="counter", part="gpu", points=1)
def test_counter_gpu_random_and_edge_inputs(impl, reference, spec, gpu):
    rng = hidden_rng(800)
    for n in gpu.sizes(spec.part("counter", "gpu")):
        for high in (3, 1_000_000):
            values = rng.integers(1, high, n, dtype=np.int64)
            _total(impl.counter_gpu(gpu.to_device(values)), reference.counter_serial([values]), f"counter_gpu ({n} values)")
