"""Only the speedup from running in parallel earns points: the rule, the one-core pin, impostors.

The graded speedup of a round is min(C1/C, B/C): C1 is the candidate's own time confined to one
core, B the staff serial baseline's, C the candidate's. Fake workloads whose speed the test
controls (sleeps that depend on a fake pin) check the rule end to end through `measure` and
`decide_cpu`; the real pin (`pinned_to_one_core`) is checked on this machine's threads,
numba's thread pool and a child process.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest

from grader.core.spec import PerformanceSpec
from grader.worker import speed_verdict, timing
from grader.worker.speed_verdict import decide_cpu
from grader.worker.timing import (
    Measurement,
    PinUnavailable,
    Round,
    WrongAnswerWhileTimed,
    bootstrap_interval,
    measure,
    pinned_to_one_core,
)

pytestmark = pytest.mark.alone  # real timings: run after the rest, one at a time

PERF = PerformanceSpec(points=3, size=10, efficiency=0.6, floor_efficiency=0.15, max_cores=8)
CPUS = sorted(os.sched_getaffinity(0))
needs_two_cpus = pytest.mark.skipif(len(CPUS) < 2, reason="pinning to one CPU changes nothing on a one-CPU machine")


# ----------------------------------------------------------------------------------- the rule


def test_round_speedup_is_the_smaller_of_self_speedup_and_baseline_speedup():
    parallel = Round(baseline=1.0, candidate=0.5, baseline_cpu=0.0, single_core=0.95)
    assert parallel.baseline_speedup == pytest.approx(2.0)
    assert parallel.self_speedup == pytest.approx(1.9)
    assert parallel.speedup == pytest.approx(1.9)
    tuned_serial = Round(baseline=1.0, candidate=0.16, baseline_cpu=0.0, single_core=0.16)
    assert tuned_serial.speedup == pytest.approx(1.0), "a faster serial loop earns nothing"
    slow_parallel = Round(baseline=1.0, candidate=1.5, baseline_cpu=0.0, single_core=3.0)
    assert slow_parallel.self_speedup == pytest.approx(2.0)
    assert slow_parallel.speedup == pytest.approx(1 / 1.5), "never more than the real speedup over the baseline"
    gpu = Round(baseline=1.0, candidate=0.05, baseline_cpu=0.0)
    assert gpu.self_speedup is None and gpu.speedup == pytest.approx(20.0)


def measurement(rounds, capacity=1.95, pinned=1.0):
    """A measurement from (B/C, C1/C) pairs per round (baseline 1 s)."""
    rows = tuple(
        Round(baseline=1.0, candidate=1.0 / b, single_core=own / b, baseline_cpu=0.0, probe_serial=capacity, probe_parallel=1.0)
        for b, own in rounds
    )
    return Measurement(
        rounds=rows, baseline_before=1.0, interval=bootstrap_interval([r.speedup for r in rows]), pinned_cpu=pinned
    )


def test_measurement_reports_both_ratios_and_grades_their_minimum():
    m = measurement([(1.9, 1.82), (1.95, 1.8), (1.88, 1.85)])
    assert m.speedup == pytest.approx(1.82)
    assert m.baseline_speedup == pytest.approx(1.9)
    assert m.self_speedup == pytest.approx(1.82)
    assert m.single_core_speedup == pytest.approx(1.9 / 1.82, rel=0.02)
    metrics = m.metrics()
    assert metrics["speedup"] == pytest.approx(1.82) and metrics["baseline_speedup"] == pytest.approx(1.9)
    assert metrics["self_speedup"] == pytest.approx(1.82) and metrics["pinned_cores"] == 1.0
    assert metrics["speedup_by_order"] == [pytest.approx(1.835), pytest.approx(1.8)]  # rounds 0 and 2 | round 1


@pytest.mark.parametrize("serial_speed", [1.17, 1.38, 1.56, 6.3])
def test_a_serial_impostor_gets_nothing_whatever_its_serial_speed(serial_speed):
    """The outside review's cases: a better serial loop measured 1.17-6.3x over the baseline."""
    d = decide_cpu(PERF, 2, measurement([(serial_speed, 1.0), (serial_speed * 1.02, 1.01), (serial_speed * 0.98, 0.99)]))
    assert d.verdict == "scored" and d.credit == 0.0
    assert "from parallelism" in d.message and "as fast on one core" in d.message
    assert f"{serial_speed:.2f}× over the baseline" in d.message


def test_a_parallel_program_keeps_full_credit_and_sees_where_it_comes_from():
    d = decide_cpu(PERF, 2, measurement([(1.9, 1.82), (1.95, 1.8), (1.88, 1.85)]))
    assert d.verdict == "scored" and d.credit == 1.0
    assert d.message.startswith("1.82× from parallelism")
    assert "1.90× over the baseline, 1.04× on one core" in d.message


def test_slow_parallel_code_is_capped_by_its_speedup_over_the_baseline():
    d = decide_cpu(PERF, 2, measurement([(1.05, 1.9), (1.04, 1.95), (1.06, 1.9)]))
    assert d.credit == 0.0 and "on one core your code takes" in d.message


def test_parallel_serial_fraction_earns_only_its_parallel_part():
    """A tenth of the work in parallel: 1.05x from parallelism, however fast the serial loop is."""
    d = decide_cpu(PERF, 2, measurement([(1.44, 1.05), (1.46, 1.06), (1.43, 1.04)]))
    assert d.credit == 0.0


def test_memory_bound_room_counts_from_the_faster_serial_rate():
    """A loop that moves more bytes per second on one core than the baseline has less room to
    grow in parallel: the bandwidth cap on the target counts from its rate, and says so."""
    perf = PerformanceSpec(points=3, size=10, bound="memory", bytes_per_element=24, efficiency=0.6, floor_efficiency=0.15)
    rows = tuple(
        Round(
            baseline=1.0,
            candidate=0.5,
            single_core=0.8,
            baseline_cpu=0.0,
            probe_serial=1.95,
            probe_parallel=1.0,
            bandwidth_parallel=1.0,
        )
        for _ in range(3)
    )
    # ceiling 40 GB/s; the baseline moves 24 GB/s (room 1.67x), the candidate on one core 30 GB/s (room 1.33x)
    m = Measurement(rounds=rows, baseline_before=1.0, bandwidth_bytes=40e9, task_bytes=24e9, interval=(1.6, 1.6), pinned_cpu=1.0)
    d = decide_cpu(perf, 2, m)
    assert d.verdict == "deferred" and "your code on one core already moves 30.0 GB/s, most of the 40.0 GB/s" in d.message
    faster = Measurement(
        rounds=rows, baseline_before=1.0, bandwidth_bytes=60e9, task_bytes=24e9, interval=(1.6, 1.6), pinned_cpu=1.0
    )
    d = decide_cpu(perf, 2, faster)  # room 2x from the candidate's 30 GB/s: capped by the cores' 1.95
    assert d.verdict == "scored" and d.capacity == pytest.approx(1.95)


def test_a_pin_that_does_not_hold_defers():
    d = decide_cpu(PERF, 2, measurement([(1.9, 1.0)], pinned=1.8))
    assert d.verdict == "deferred" and "could not confine code to one core" in d.message
    rows = (
        Round(
            baseline=1.0, candidate=0.5, single_core=0.6, single_core_cpu=1.9, baseline_cpu=0.0, probe_serial=2, probe_parallel=1
        ),
    )
    m = Measurement(rounds=rows, baseline_before=1.0, interval=(1.2, 1.2), pinned_cpu=0.99)
    assert m.pinned_cores == pytest.approx(1.9), "the candidate's own one-core calls count too"
    assert decide_cpu(PERF, 2, m).verdict == "deferred"
    assert decide_cpu(PERF, 2, measurement([(1.9, 1.8)], pinned=1.0)).verdict == "scored"


# ------------------------------------------------------- end to end with controlled workloads


NAP_SCALE = 3  # the fakes' times below are stretched 3x: a loaded machine oversleeps by milliseconds


def _nap(seconds):
    time.sleep(seconds * NAP_SCALE)


class FakeMachine:
    """Two perfect cores whose code sleeps; `one_core` halves the parallel speed of what runs in it."""

    def __init__(self):
        self.pinned = False
        self.pins = []

    @contextmanager
    def one_core(self, which):
        self.pins.append(which)
        self.pinned = True
        try:
            yield which
        finally:
            self.pinned = False

    def serial(self):
        _nap(0.01)

    def parallel(self):
        _nap(0.01 if self.pinned else 0.005)


def _sleeper(seconds):
    def run(x):
        _nap(seconds() if callable(seconds) else seconds)
        return x

    return run


def _grade(machine, candidate, rounds=8):
    m = measure(
        _sleeper(0.02),
        candidate,
        [1, 2],
        lambda got, want: None,
        probe=machine,
        one_core=machine.one_core,
        min_rounds=rounds,
        max_rounds=rounds,
    )
    return m, decide_cpu(PERF, 2, m)


def test_measure_times_the_candidate_on_one_core_every_round():
    machine = FakeMachine()
    m, _ = _grade(machine, _sleeper(lambda: 0.02 if machine.pinned else 0.011))
    assert all(r.single_core is not None for r in m.rounds)
    assert 1.5 < m.self_speedup < 2.3 and 1.5 < m.baseline_speedup < 2.3  # 1.82 nominal; sleeps overshoot under load
    assert m.pinned_cpu is not None and m.pinned_cores < 0.2, "sleeping uses no CPU, pinned or not"
    assert all(r.single_core_cpu is not None for r in m.rounds)
    assert set(range(len(m.rounds))) <= set(machine.pins), "each round names its CPU (they alternate)"


def test_a_fast_serial_impostor_scores_zero_through_measure():
    machine = FakeMachine()
    m, d = _grade(machine, _sleeper(0.005))  # 4x faster than the baseline, and just as fast on one core
    assert m.baseline_speedup > 3.5
    assert d.verdict == "scored" and d.credit == 0.0, d.message


def test_a_parallel_candidate_scores_full_through_measure():
    machine = FakeMachine()
    _, d = _grade(machine, _sleeper(lambda: 0.021 if machine.pinned else 0.011))
    assert d.verdict == "scored" and d.credit == 1.0, d.message


def test_a_busy_pinned_cpu_does_not_turn_serial_code_into_parallel_code():
    """On a busy machine an unpinned serial program escapes to the free CPU and a pinned one cannot:
    the serial impostor's C1 is slower than its C. The serial probe timed on the same CPU (K1)
    shows the same slowdown, and the self-speedup is taken over it."""

    class BusyPinnedCpu(FakeMachine):
        def serial(self):
            _nap(0.013 if self.pinned else 0.01)  # a neighbour takes 23 % of the pinned CPU

    machine = BusyPinnedCpu()
    m, d = _grade(machine, _sleeper(lambda: 0.0065 if machine.pinned else 0.005))  # 4x the baseline, serial
    assert statistics.median(r.single_core / r.candidate for r in m.rounds) > 1.2, "uncorrected, it would look parallel"
    assert m.self_speedup < 1.1 and 1.15 < statistics.median(r.pin_penalty for r in m.rounds) < 1.6
    assert d.verdict == "scored" and d.credit == 0.0, d.message
    parallel = BusyPinnedCpu()
    _, d = _grade(parallel, _sleeper(lambda: 0.026 if parallel.pinned else 0.011))  # 1.8x over itself on a free core
    assert d.credit == 1.0, d.message


def test_an_output_wrong_only_on_one_core_is_caught():
    machine = FakeMachine()

    def candidate(x):
        return -1 if machine.pinned else x

    def check(got, want):
        assert got == want, "mismatch"

    with pytest.raises(WrongAnswerWhileTimed, match="mismatch"):
        measure(lambda x: x, candidate, [1, 2], check, one_core=machine.one_core, min_rounds=2, max_rounds=2)


@pytest.mark.parametrize("wrong_when_pinned", [False, True])
def test_both_calls_into_one_reused_buffer_are_checked(wrong_when_pinned):
    """C and C1 write into the same output buffer: the first one's output is checked before the
    second overwrites it, in either order of the round."""
    machine = FakeMachine()
    buffer = np.zeros(100)

    def candidate(x):
        buffer[:] = x
        if machine.pinned == wrong_when_pinned:
            buffer[7] += 1.0
        return buffer

    def check(got, want):
        np.testing.assert_array_equal(got, want)

    for rounds in (1, 2):  # round 0 runs B first, round 1 B last
        with pytest.raises(WrongAnswerWhileTimed):
            measure(
                lambda x: x.copy(),
                candidate,
                [np.arange(100.0)],
                check,
                one_core=machine.one_core,
                min_rounds=rounds,
                max_rounds=rounds,
            )


def test_equal_outputs_are_checked_once_per_round():
    """C and C1 returning the same values cost one tolerance check, not two (a full check of the
    a3 image takes ~100 ms); outputs that differ are each checked (see the tests above)."""
    machine = FakeMachine()
    calls = []

    def check(got, want):
        calls.append(1)
        np.testing.assert_array_equal(got, want)

    measure(lambda x: x * 2, lambda x: x * 2, [np.arange(100.0)], check, one_core=machine.one_core, min_rounds=4, max_rounds=4)
    assert len(calls) == 4


def test_the_graders_own_threads_spinning_during_the_candidate_are_measured():
    """A thread that existed before the candidate ever ran (as numba's pool after the probe does) and
    burns CPU while the candidate runs shows in staff_threads_cpu; an idle one does not."""
    go, stop = threading.Event(), threading.Event()

    def pool_worker():
        while not stop.is_set():
            if not go.wait(0.001):
                continue
            while go.is_set() and not stop.is_set():
                pass  # spinning, as an OpenMP worker after its region

    def candidate(x):
        go.set()
        time.sleep(0.02)
        go.clear()
        return x

    worker = threading.Thread(target=pool_worker, daemon=True)
    worker.start()
    try:
        spun = measure(lambda x: x, candidate, [1], lambda g, w: None, min_rounds=4, max_rounds=4)
        go.clear()
        quiet = measure(lambda x: x, _sleeper(0.02 / NAP_SCALE), [1], lambda g, w: None, min_rounds=4, max_rounds=4)
    finally:
        stop.set()
        worker.join()
    if spun.rounds[0].staff_threads_cpu is None:
        pytest.skip("this kernel keeps no per-thread schedstat")
    spinning, waiting = spun.metrics()["staff_threads_cpu"], quiet.metrics()["staff_threads_cpu"]
    assert spinning > 0.1  # ~1 core idle, 0.2 at load 11
    # The waiting worker still wakes every millisecond (measured up to 0.056 of a core): well below spinning.
    assert waiting < min(0.1, spinning / 2), (waiting, spinning)


# ------------------------------------------------------------------------------- the real pin


def _masks():
    return {tid: os.sched_getaffinity(tid) for tid in timing._tasks("self")}


@needs_two_cpus
def test_pin_confines_every_thread_and_restores_them():
    numba = pytest.importorskip("numba")
    stop = threading.Event()
    idle = threading.Thread(target=stop.wait, daemon=True)  # a thread that exists before the pin
    idle.start()
    try:
        before, threads_before = _masks(), numba.get_num_threads()
        with pinned_to_one_core(1) as cpu:
            assert cpu == CPUS[1]
            during = _masks()
            assert set(during) >= set(before) and all(m == {cpu} for m in during.values())
            assert numba.get_num_threads() == 1
            seen = {}
            late = threading.Thread(target=lambda: seen.setdefault("mask", os.sched_getaffinity(0)))
            late.start()
            late.join()
            assert seen["mask"] == {cpu}, "a thread started inside the pin inherits it"
        after = _masks()
        assert all(after[tid] == mask for tid, mask in before.items() if tid in after)
        assert numba.get_num_threads() == threads_before
    finally:
        stop.set()
        idle.join()


@needs_two_cpus
def test_pin_is_undone_when_the_block_raises():
    numba = pytest.importorskip("numba")
    before, threads_before = _masks(), numba.get_num_threads()
    stop = threading.Event()
    holder = {}

    def pool_thread():  # a thread the timed code starts and leaves running (a lazily made pool)
        holder["tid"] = threading.get_native_id()
        stop.wait()

    started = threading.Thread(target=pool_thread, daemon=True)
    with pytest.raises(ZeroDivisionError):
        with pinned_to_one_core(0):
            started.start()
            while "tid" not in holder:
                time.sleep(0.001)
            raise ZeroDivisionError("the timed code failed")
    try:
        after = _masks()
        assert all(after[tid] == mask for tid, mask in before.items() if tid in after)
        assert os.sched_getaffinity(holder["tid"]) == set(CPUS), "a thread started in the pin gets the process's mask back"
        assert numba.get_num_threads() == threads_before
    finally:
        stop.set()
        started.join()


def _child(ready, done):
    ready.set()
    done.wait(30)


@needs_two_cpus
def test_pin_reaches_child_processes_and_lets_them_go():
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_child, args=(ready, done), daemon=True)
    child.start()
    try:
        assert ready.wait(30)
        assert child.pid in timing._descendants()
        assert sorted(timing._descendants()) == sorted(timing._descendants_by_scan())
        with pinned_to_one_core(0) as cpu:
            assert os.sched_getaffinity(child.pid) == {cpu}
        assert os.sched_getaffinity(child.pid) == set(CPUS)
    finally:
        done.set()
        child.join(30)


def _cpu_per_wall(fn):
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return (time.process_time() - c0) / (time.perf_counter() - t0)


@needs_two_cpus
def test_the_pin_takes_for_prange_and_for_explicit_threads():
    """Pinned, a perfectly parallel prange kernel or two nogil threads use at most one core: the
    process's CPU time does not exceed the wall time (unpinned they use up to two cores' worth)."""
    numba = pytest.importorskip("numba")
    from grader.worker.calibration import ComputeProbe

    probe = ComputeProbe(work=400)

    @numba.njit(nogil=True)
    def spin(n):
        acc = 0.0
        for k in range(n):
            acc += np.sin(k * 1e-3)
        return acc

    spin(10)

    def two_threads():
        workers = [threading.Thread(target=spin, args=(3_000_000,)) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    for fn in (probe.parallel, two_threads):
        with pinned_to_one_core(0):
            assert _cpu_per_wall(fn) < 1.15, f"{fn} used more than one core while pinned"


def test_a_pin_that_cannot_be_set_raises_and_changes_nothing(monkeypatch):
    before = os.sched_getaffinity(0)

    def refuse(tid, mask):
        raise PermissionError("not allowed here")

    monkeypatch.setattr(timing.os, "sched_setaffinity", refuse)
    with pytest.raises(PinUnavailable, match="not allowed here"):
        with pinned_to_one_core(0):
            pytest.fail("the block must not run unpinned")
    monkeypatch.undo()
    assert os.sched_getaffinity(0) == before


def test_scoring_module_documents_the_rule():
    assert "min(C1/C, B/C)" in (speed_verdict.__doc__ or "")
