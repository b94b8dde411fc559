"""Speedup measurement and scoring, with fake workloads whose speed the test controls."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from grader.core.spec import PerformanceSpec
from grader.worker import speed_verdict, timing
from grader.worker.speed_verdict import core_target, decide_cpu, decide_fixed
from grader.worker.timing import BASELINE_CLAMP, Measurement, Round, WrongAnswerWhileTimed, bootstrap_interval, measure

pytestmark = pytest.mark.alone  # real timings: run after the rest, one at a time

PERF = PerformanceSpec(points=3, size=10, efficiency=0.6, floor_efficiency=0.15, max_cores=8)


def test_core_target_scales_with_cores_and_is_capped():
    assert core_target(PERF, 2).target == pytest.approx(1.6)
    assert core_target(PERF, 2).floor == pytest.approx(1.15)
    assert core_target(PERF, 4).target == pytest.approx(2.8)
    assert core_target(PERF, 64).target == core_target(PERF, 8).target


def test_fixed_target_ignores_cores():
    t = core_target(PerformanceSpec(points=2, size=10, target=20, floor=4), 2)
    assert (t.target, t.floor) == (20, 4)


@pytest.mark.parametrize("speedup, credit", [(0.9, 0.0), (1.15, 0.0), (1.375, 0.5), (1.6, 1.0), (3.0, 1.0)])
def test_credit_is_linear_between_floor_and_target(speedup, credit):
    assert core_target(PERF, 2).credit(speedup) == pytest.approx(credit)


def measurement(speedups, capacity, *, reference=None, cpu=0.0, bandwidth=None, task_bytes=None, own=None):
    """A measurement with the given per-round speedups and probe capacity (times in seconds); a list
    of capacities gives each round its own, ``own`` each round's speedup over itself on one core."""
    capacities = capacity if isinstance(capacity, list) else [capacity] * len(speedups)
    rounds = tuple(
        Round(
            baseline=1.0,
            candidate=1.0 / s,
            baseline_cpu=cpu,
            probe_serial=k,
            probe_parallel=1.0,
            reference=None if reference is None else 1.0 / reference,
            bandwidth_parallel=None if bandwidth is None else 1.0,
            single_core=None if own is None else own[i] / s,
        )
        for i, (s, k) in enumerate(zip(speedups, capacities, strict=True))
    )
    return Measurement(
        rounds=rounds,
        baseline_before=1.0,
        bandwidth_bytes=bandwidth,
        task_bytes=task_bytes,
        interval=bootstrap_interval([r.speedup for r in rounds]),
    )


def test_correct_code_on_an_idle_machine_gets_full_credit():
    d = decide_cpu(PERF, 2, measurement([1.9, 1.95, 1.85, 1.92], capacity=1.95))
    assert d.verdict == "scored" and d.credit == 1.0
    assert d.target == pytest.approx(1 + 0.6 * 0.95)
    assert "machine delivers 1.95× on 2 cores" in d.message


def test_serial_code_gets_nothing():
    d = decide_cpu(PERF, 2, measurement([1.0, 1.02, 0.98], capacity=1.95))
    assert d.verdict == "scored" and d.credit == 0.0


def test_busy_machine_defers_instead_of_failing():
    d = decide_cpu(PERF, 2, measurement([1.05, 0.98], capacity=1.1))
    assert d.verdict == "deferred" and d.credit == 0.0
    assert "2 usable cores delivered 1.10× on the calibration kernel (needs 1.40×)" in d.message
    assert "rerun on a quieter machine" in d.message


def test_rounds_that_support_both_no_credit_and_full_credit_defer():
    """A 90 %-serial program measured 1.50× (1.14–1.87) from parallelism on a noisy VM: its interval
    reaches below the floor and above the target, so the median alone would hand out a verdict the
    data does not support. The same rounds with the noise gone are scored."""
    noisy = measurement([1.0, 1.9, 1.1, 1.8, 1.5, 1.05, 1.85, 1.5], capacity=1.95)
    low, high = noisy.interval
    d = decide_cpu(PERF, 2, noisy)
    assert low <= d.floor and high >= d.target
    assert d.verdict == "deferred" and d.credit == 0.0
    assert "varied too much to judge here" in d.message and "rerun on a quieter machine" in d.message
    steady = decide_cpu(PERF, 2, measurement([1.5, 1.52, 1.48, 1.5, 1.51, 1.49], capacity=1.95))
    assert steady.verdict == "scored" and 0.0 < steady.credit < 1.0
    # A narrow interval at the boundary (floor 1.15×, target 1.17×) is scored by its median, not deferred forever.
    boundary = PerformanceSpec(points=3, size=10, efficiency=0.3, floor_efficiency=0.15)
    close = decide_cpu(boundary, 2, measurement([1.14, 1.16, 1.18, 1.15, 1.17, 1.16], capacity=1.57))
    assert close.verdict == "scored" and close.floor <= close.target
    gpu = PerformanceSpec(points=2, size=10, target=20, floor=4)
    assert decide_fixed(gpu, measurement([3.0, 25.0, 12.0, 3.5, 24.0], 1.0)).verdict == "deferred"
    assert decide_fixed(gpu, measurement([11.0, 12.0, 12.5], 1.0)).verdict == "scored"


def test_a_target_that_falls_to_the_floor_defers_even_without_the_reference():
    """a3's efficiency 0.3 with the machine delivering 1.45×: target 1.135× under the 1.15× floor, so
    a serial program measuring 1.14× would have reached the target. No reference is timed in a public
    run; with one, the message names the machine, not the reference, when the machine is the cause."""
    a3 = PerformanceSpec(points=3, size=10, efficiency=0.3, floor_efficiency=0.15)
    d = decide_cpu(a3, 2, measurement([1.14, 1.14, 1.14], capacity=1.45))
    assert d.verdict == "deferred" and d.credit == 0.0
    assert "1.45× on the calibration kernel" in d.message and "reference" not in d.message
    with_ref = decide_cpu(a3, 2, measurement([1.14, 1.14, 1.14], capacity=1.45, reference=2.3))
    assert with_ref.verdict == "deferred" and "reference" not in with_ref.message
    slow_ref = decide_cpu(a3, 2, measurement([1.14, 1.14, 1.14], capacity=1.9, reference=1.3))
    assert slow_ref.verdict == "deferred" and "reference solution itself reached only 1.30×" in slow_ref.message


def test_one_core_defers():
    assert decide_cpu(PERF, 1, measurement([1.0], capacity=1.0)).verdict == "deferred"


def test_reference_solution_lowers_the_target_cs149_style():
    d = decide_cpu(PERF, 8, measurement([4.0, 4.1, 3.9], capacity=7.5, reference=4.5))
    assert d.target == pytest.approx(4.5 / speed_verdict.REFERENCE_SLACK)
    assert d.credit == 1.0


def test_background_cpu_during_the_baseline_is_rejected():
    d = decide_cpu(PERF, 2, measurement([2.5, 2.6], capacity=1.9, cpu=0.9))
    assert d.verdict == "rejected" and d.credit == 0.0
    assert "kept using CPU after returning" in d.message


def test_memory_bound_task_defers_when_bandwidth_leaves_no_room():
    perf = PerformanceSpec(points=3, size=10, bound="memory", bytes_per_element=24)
    # serial baseline moves 24 GB/s (24e9 bytes in 1 s), the parallel probe 27 GB/s: room 1.125x
    d = decide_cpu(perf, 2, measurement([1.05, 1.1], capacity=1.95, bandwidth=27e9, task_bytes=24e9))
    assert d.verdict == "deferred" and "memory-bound" in d.message and "24.0 GB/s, most of the 27.0 GB/s" in d.message
    # the advice matches the handouts' ("a machine with more bandwidth grades it"), not "rerun on a quieter machine"
    assert "a machine with more memory bandwidth grades it" in d.message and "quieter" not in d.message


def test_extra_traffic_of_the_parallel_algorithm_shrinks_the_bandwidth_room():
    """a6's scan on this VM: the baseline moves 8.6 GB/s of a 15.1 GB/s ceiling (room 1.76x, over the
    1.4x needed on 2 cores), but a two-pass scan moves 16 bytes where the serial loop moves 12: 1.32x."""
    serial = PerformanceSpec(points=3, size=10, bound="memory", bytes_per_element=12, efficiency=0.35, floor_efficiency=0.1)
    two_pass = serial.model_copy(update={"parallel_bytes_per_element": 16})
    m = measurement([0.9, 0.91], capacity=1.65, bandwidth=15.1e9, task_bytes=8.6e9)
    assert decide_cpu(serial, 2, m).verdict == "scored"  # the reference solution failed its own line this way
    d = decide_cpu(two_pass, 2, m)
    assert d.verdict == "deferred" and "must move 16 bytes an element where the serial loop moves 12" in d.message
    assert "at most 1.32× faster" in d.message


def test_a_work_factor_the_cores_cannot_make_up_defers_and_stops_timing():
    """a6's two-pass scan does twice the serial work: the reference measured 0.88x at K = 1.68, and
    failed its own public line against a 1.24x target. With work_factor 2, 2 cores can never show
    it (target 1.0x, floor 1.1x): pending at once; 4 idle cores set 1 + 0.5(4/2 - 1) = 1.5x."""
    perf = PerformanceSpec(points=3, size=10, work_factor=2, efficiency=0.5, floor_efficiency=0.1)
    m = measurement([0.88, 0.89], capacity=1.68)
    d = decide_cpu(perf, 2, m)
    assert d.verdict == "deferred" and "does 2× the serial loop's work" in d.message, d.message
    assert "at most 0.84×" in d.message and "a machine with more cores grades it" in d.message
    assert speed_verdict.clear_enough(perf, 2, m)  # no number of rounds changes that on 2 cores
    assert core_target(perf, 4).target == pytest.approx(1.5)
    assert decide_cpu(perf, 4, measurement([2.0, 2.0], capacity=3.9)).credit == 1.0
    assert decide_cpu(PerformanceSpec(points=3, size=10, efficiency=0.5, floor_efficiency=0.1), 2, m).verdict == "scored"


def test_parallel_traffic_is_only_for_memory_bound_tasks_and_never_less():
    with pytest.raises(ValueError, match="parallel_bytes_per_element"):
        PerformanceSpec(points=3, size=10, bytes_per_element=12, parallel_bytes_per_element=16)
    with pytest.raises(ValueError, match="parallel_bytes_per_element"):
        PerformanceSpec(points=3, size=10, bound="memory", bytes_per_element=12, parallel_bytes_per_element=8)


def test_fixed_gpu_target():
    d = decide_fixed(PerformanceSpec(points=2, size=10, target=20, floor=4), measurement([12.0, 12.0], capacity=1.0))
    assert d.credit == pytest.approx(0.5)


class Probe:
    """A fake machine probe with a chosen serial/parallel ratio."""

    def __init__(self, serial_s, parallel_s):
        self.s, self.p = serial_s, parallel_s

    def serial(self):
        time.sleep(self.s)

    def parallel(self):
        time.sleep(self.p)


def _sleeper(seconds):
    def run(x):
        time.sleep(seconds)
        return x

    return run


def test_measured_ratio_and_capacity_match_known_values():
    m = measure(
        _sleeper(0.02), _sleeper(0.01), [1, 2], lambda got, want: None, probe=Probe(0.01, 0.005), min_rounds=6, max_rounds=6
    )
    assert len(m.rounds) == 6
    assert 1.7 < m.speedup < 2.2 and 1.7 < m.capacity < 2.2
    assert 0.85 < m.efficiency < 1.15  # a perfectly parallel candidate uses all the machine delivers
    assert m.interval[0] <= m.speedup <= m.interval[1]
    assert m.background_cpu < 0.5  # sleeping uses no CPU


def test_efficiency_follows_the_machine_not_the_raw_speedup():
    """A machine whose serial speed changes between rounds moves speedup and capacity together."""

    class Machine:  # serial code runs 1.5x slower in some rounds, as with a busy neighbour core
        parallel_calls = 0

        def factor(self):
            return 1.5 if (self.parallel_calls // 2) % 2 == 0 else 1.0

        def serial(self):
            time.sleep(0.01 * self.factor())

        def parallel(self):
            self.parallel_calls += 1
            time.sleep(0.005)

    machine = Machine()

    def baseline(x):
        time.sleep(0.02 * machine.factor())
        return x

    m = measure(baseline, _sleeper(0.01), [1], lambda g, w: None, probe=machine, min_rounds=6, max_rounds=6)
    per_round = [r.speedup for r in m.rounds]
    assert max(per_round) / min(per_round) > 1.3  # the raw ratio swings with the machine
    assert 0.85 < m.efficiency < 1.15  # the efficiency does not


def test_stop_rule_ends_early_when_the_decision_is_clear():
    m = measure(_sleeper(0.01), _sleeper(0.01), [1], lambda g, w: None, decide=lambda m: True, min_rounds=3, max_rounds=30)
    assert len(m.rounds) == 3 and m.stop_reason == "decision clear"


def test_all_rounds_but_one_over_the_target_settle_full_credit_early():
    """One stray round is tolerated (the second-lowest bounds the median); two are not."""
    m = measurement([1.8, 1.75, 1.9, 1.2, 1.85, 1.8, 1.72, 1.78], capacity=1.9)  # target 1.54
    assert decide_cpu(PERF, 2, m).credit == 1.0 and speed_verdict.settled(PERF, 2, m)
    two_low = measurement([1.8, 1.75, 1.9, 1.2, 1.85, 1.5, 1.72, 1.78], capacity=1.9)
    assert decide_cpu(PERF, 2, two_low).credit == 1.0  # the medians pass it ...
    assert not speed_verdict.settled(PERF, 2, two_low)  # ... but two rounds dispute it: wait for the minimum


def test_the_second_best_rounds_capacity_sets_the_early_bar():
    """Median capacity 1.6 sets 1.36x; two rounds at 1.8 raise the bar to 1.36 * 1.8/1.6 = 1.53x (one
    alone would not), which a steady 1.5x does not clear: no early stop, though the medians give full
    credit. The bar never exceeds the target of an ideal machine (1.6x on 2 cores)."""
    capacities = [1.6, 1.6, 1.8, 1.8, 1.6, 1.6, 1.5, 1.6]
    m = measurement([1.5] * 8, capacity=capacities)
    assert decide_cpu(PERF, 2, m).credit == 1.0
    assert not speed_verdict.settled(PERF, 2, m)
    assert speed_verdict.settled(PERF, 2, measurement([1.54] * 8, capacity=capacities))
    assert speed_verdict.settled(PERF, 2, measurement([1.5] * 8, capacity=[1.6] * 7 + [1.8]))
    assert speed_verdict.settled(PERF, 2, measurement([1.6] * 8, capacity=[1.9] * 6 + [4.0, 4.0]))


def test_a_serial_program_in_all_rounds_but_one_settles_no_credit_early():
    fast_serial = measurement([1.5] * 8, capacity=1.9, own=[1.0, 1.02, 0.98, 1.3, 1.0, 1.01, 0.99, 1.1])
    d = decide_cpu(PERF, 2, fast_serial)
    assert d.credit == 0.0 and speed_verdict.settled(PERF, 2, fast_serial)
    twice_parallel = measurement([1.5] * 8, capacity=1.9, own=[1.0, 1.02, 0.98, 1.3, 1.0, 1.01, 1.2, 1.1])
    assert decide_cpu(PERF, 2, twice_parallel).credit == 0.0
    assert not speed_verdict.settled(PERF, 2, twice_parallel)
    slow_everywhere = measurement([0.6, 0.7, 0.65, 1.3, 0.6, 0.6, 0.62, 0.7], capacity=1.9)  # below the baseline
    assert speed_verdict.settled(PERF, 2, slow_everywhere)


def test_partial_credit_never_settles_early():
    m = measurement([1.4] * 8, capacity=1.9)
    assert 0 < decide_cpu(PERF, 2, m).credit < 1 and not speed_verdict.settled(PERF, 2, m)


def test_settled_rounds_stop_between_the_early_and_the_minimum_rounds():
    seen = []

    def settled(m):
        seen.append(len(m.rounds))
        return len(m.rounds) == 5

    m = measure(
        _sleeper(0.005), _sleeper(0.005), [1], lambda g, w: None, settled=settled, early_rounds=4, min_rounds=8, max_rounds=8
    )
    assert seen == [4, 5] and len(m.rounds) == 5 and m.stop_reason == "every round agrees"
    never = measure(
        _sleeper(0.005),
        _sleeper(0.005),
        [1],
        lambda g, w: None,
        settled=lambda m: False,
        early_rounds=4,
        min_rounds=6,
        max_rounds=6,
    )
    assert len(never.rounds) == 6 and never.stop_reason == "max rounds"


class Host:
    """A fake /proc/stat steal count: the rounds (start/end read pairs) listed in ``takes`` lose 50
    ticks each; ``every`` makes every round lose them."""

    def __init__(self, takes=(), every=False):
        self.calls, self.ticks, self.takes, self.every = 0, 0, set(takes), every

    def __call__(self, cpus):
        attempt, is_end = divmod(self.calls, 2)
        if is_end and (self.every or attempt in self.takes):
            self.ticks += 50
        self.calls += 1
        return self.ticks


def test_rounds_the_host_took_are_set_aside_and_timed_again(monkeypatch):
    """Ratios of a round the hypervisor interrupted say nothing about the code: they are not counted,
    the round is timed again, and the report says how many were set aside and how much was taken."""
    monkeypatch.setattr(timing, "_stolen_ticks", Host(takes={1, 2, 5}))
    m = measure(_sleeper(0.01), _sleeper(0.005), [1], lambda g, w: None, min_rounds=6, max_rounds=6)
    assert len(m.rounds) == 6 and m.set_aside == 3 and m.stop_reason == "max rounds"
    assert m.host_steal > 0.1  # 150 ticks over 9 short rounds
    assert m.metrics()["set_aside_rounds"] == 3
    quiet = measure(_sleeper(0.01), _sleeper(0.005), [1], lambda g, w: None, min_rounds=6, max_rounds=6)
    assert quiet.host_steal is not None and 0 <= quiet.host_steal <= 1  # the kernel's real count, a share of the time


def test_a_host_that_takes_every_round_defers_the_line(monkeypatch):
    """No undisturbed round within twice the time budget: pending, with the reason, never a score."""
    monkeypatch.setattr(timing, "_stolen_ticks", Host(every=True))
    t0 = time.perf_counter()
    m = measure(_sleeper(0.01), _sleeper(0.005), [1], lambda g, w: None, min_rounds=6, max_rounds=6, budget_s=0.3)
    assert 0.6 <= time.perf_counter() - t0 < 2.0
    assert m.rounds == () and m.set_aside > 3 and m.stop_reason == timing.HOST_STEAL
    taken = round(m.host_steal, 3)
    assert m.metrics() == {"rounds": 0, "stop": timing.HOST_STEAL, "set_aside_rounds": m.set_aside, "host_steal": taken}
    gpu = PerformanceSpec(points=1, size=1, target=20, floor=4)
    for d in (decide_cpu(PERF, 2, m), decide_fixed(gpu, m)):
        assert d.verdict == "deferred" and d.credit == 0.0
        assert "host took" in d.message and f"{m.set_aside} of {m.set_aside} rounds" in d.message


def test_steal_counts_need_more_than_one_tick_and_a_share_of_the_round():
    assert not timing._host_took(None, 0.5, 2)  # no count kept: nothing is set aside
    assert not timing._host_took(1, 0.01, 2)  # one tick is the count's resolution, not evidence
    limit = timing.STEAL_LIMIT * 0.5 * 2 * timing._CLOCK_TICKS
    assert timing._host_took(int(limit) + 1, 0.5, 2) and not timing._host_took(int(limit), 0.5, 2)
    ticks = timing._stolen_ticks(frozenset(os.sched_getaffinity(0)))
    assert isinstance(ticks, int) and ticks >= 0  # Linux keeps the count


def test_slowed_baseline_is_clamped_to_its_pre_candidate_time():
    state = {"slow": False}

    def baseline(x):
        time.sleep(0.05 if state["slow"] else 0.01)
        return x

    def candidate(x):
        state["slow"] = True  # e.g. leaves something running that slows whatever comes next
        time.sleep(0.01)
        return x

    m = measure(baseline, candidate, [1], lambda g, w: None, min_rounds=4, max_rounds=4)
    assert all(r.baseline_clamped for r in m.rounds)
    # true speedup 1.0; the clamp lets the baseline count at most BASELINE_CLAMP x its expectation
    assert m.speedup < BASELINE_CLAMP * 1.1, "a 5x slower baseline must not become a 5x speedup"


def test_wrong_answer_on_a_timed_run_is_caught():
    calls = {"n": 0}

    def cheat(x):
        calls["n"] += 1
        return x if calls["n"] < 3 else -1  # right during warm-up, wrong once timed

    def check(got, want):
        assert got == want, "mismatch"

    with pytest.raises(WrongAnswerWhileTimed, match="wrong answer on a timed run: mismatch"):
        measure(lambda x: x, cheat, [1, 2, 3], check, min_rounds=5, max_rounds=5)


def test_an_output_cache_never_survives_the_fresh_inputs():
    """A candidate that remembers outputs by input (bytes, prefix or address) is caught by the check."""
    import numpy as np

    from grader.worker.testkit import assert_array_close
    from grader.worker.timing import WrongAnswerWhileTimed

    cache = {}

    def cached(x):
        key = x[:8].tobytes()  # keyed on a prefix: the redrawn elements are elsewhere most of the time
        if key not in cache:
            cache[key] = np.sin(x)
        return cache[key]

    inputs = [np.linspace(0, 1, 1000) for _ in range(2)]
    with pytest.raises(WrongAnswerWhileTimed):
        measure(np.sin, cached, inputs, lambda got, want: assert_array_close(got, want), min_rounds=4, max_rounds=4)
    seen = set()

    def remember(x):
        seen.add(x.tobytes())
        return np.sin(x)

    measure(np.sin, remember, inputs, lambda got, want: assert_array_close(got, want), min_rounds=6, max_rounds=6)
    assert len(seen) == 6 + 1, "every timed call (and the warm-up) saw different data"


def test_a_thread_taking_turns_with_the_baseline_is_seen():
    """A Python thread left spinning shares the GIL with the baseline: process CPU = wall, but it shows."""
    import threading

    stop = threading.Event()

    def spin():
        while not stop.is_set():
            pass

    def busy_baseline(x):
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 0.02:
            pass
        return x

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        m = measure(busy_baseline, lambda x: x, [1], lambda g, w: None, min_rounds=4, max_rounds=4)
    finally:
        stop.set()
        thread.join()
    assert m.background_cpu > 0.3
    quiet = measure(busy_baseline, lambda x: x, [1], lambda g, w: None, min_rounds=4, max_rounds=4)
    assert quiet.background_cpu < 0.1


def test_a_thread_spinning_only_between_calls_is_seen():
    """A spinning thread shut out of the baseline (it holds the GIL throughout) still shows while the
    timing thread sleeps between rounds."""
    import threading

    stop, baseline_running = threading.Event(), threading.Event()

    def spin():
        while not stop.is_set():
            if not baseline_running.is_set():
                pass

    def gil_holding_baseline(x):
        baseline_running.set()
        np.sort(np.random.default_rng(0).random(200_000))  # C code: the spinner gets a turn at most every 5 ms
        baseline_running.clear()
        return x

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        # What a spinning thread gets on this machine right now (less than a core when it is busy):
        # the checks below are relative to it, not to a fixed share that a loaded machine misses.
        available = max(_cpu_share_while_sleeping() for _ in range(4))
        m = measure(gil_holding_baseline, lambda x: x, [1], lambda g, w: None, min_rounds=4, max_rounds=4)
    finally:
        stop.set()
        thread.join()
    assert available > 0.2, f"the spinner got only {available:.2f} of a core: nothing to measure against"
    assert max(r.idle_cpu for r in m.rounds) > 0.5 * available
    assert m.background_cpu > 0.3 * available


def _cpu_share_while_sleeping(window: float = 0.02) -> float:
    """Process CPU per wall second while this thread sleeps: what other threads get."""
    c0, t0 = time.process_time(), time.perf_counter()
    time.sleep(window)
    return (time.process_time() - c0) / (time.perf_counter() - t0)


def test_every_round_gets_a_fresh_prepared_input():
    """A GPU speed test hands the kernel a new device copy of a freshly redrawn input each round,
    so nothing cached on the array (its address or its contents) survives from one round to the next."""
    seen: list[tuple[int, bytes]] = []
    made: list[np.ndarray] = []

    def prepare(x):
        device = x.copy()  # stands for the untimed copy to the device
        made.append(device)
        return (x, device)

    def candidate(pair):
        seen.append((id(pair[1]), pair[1].tobytes()))
        return pair[1] * 2

    host = np.arange(1000, dtype=np.float64)
    measure(lambda pair: pair[0] * 2, candidate, [host], lambda got, want: None, min_rounds=5, max_rounds=5, prepare=prepare)
    timed = seen[-5:]
    assert len({data for _, data in timed}) == 5  # redrawn every round
    assert all(not np.array_equal(d, host) for d in made[1:])
    assert np.array_equal(host, np.arange(1000, dtype=np.float64))  # the caller's input is never written
