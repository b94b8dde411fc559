"""Speedup targets, credit, and the interim measurement (with controllable fake workloads)."""

from __future__ import annotations

import time

import pytest

from grader.scoring import speedup_target
from grader.spec import PerformanceSpec
from grader.timing import WrongAnswerWhileTimed, measure_speedup


def test_target_scales_with_cores_and_is_capped():
    perf = PerformanceSpec(points=3, size=10, efficiency=0.6, floor_efficiency=0.15, max_cores=8)
    assert speedup_target(perf, 2).target == pytest.approx(1.6)
    assert speedup_target(perf, 2).floor == pytest.approx(1.15)
    assert speedup_target(perf, 4).target == pytest.approx(2.8)
    assert speedup_target(perf, 64).target == speedup_target(perf, 8).target


def test_fixed_target_ignores_cores():
    perf = PerformanceSpec(points=2, size=10, target=20, floor=4)
    t = speedup_target(perf, 2)
    assert (t.target, t.floor) == (20, 4)


@pytest.mark.parametrize("speedup, credit", [(0.9, 0.0), (1.15, 0.0), (1.375, 0.5), (1.6, 1.0), (3.0, 1.0)])
def test_credit_is_linear_between_floor_and_target(speedup, credit):
    t = speedup_target(PerformanceSpec(points=3, size=10, efficiency=0.6, floor_efficiency=0.15), 2)
    assert t.credit(speedup) == pytest.approx(credit)


def _sleeper(seconds):
    def run(x):
        time.sleep(seconds)
        return x

    return run


def test_measured_ratio_matches_a_known_speedup():
    m = measure_speedup(_sleeper(0.02), _sleeper(0.01), [1, 2], check=lambda got, want: None, min_rounds=5, max_rounds=5)
    assert m.rounds == 5 and len(m.baseline_s) == len(m.candidate_s) == 5
    assert 1.6 < m.speedup < 2.2
    assert m.low <= m.speedup <= m.high


def test_wrong_answer_on_a_timed_run_is_caught():
    calls = {"n": 0}

    def cheat(x):
        calls["n"] += 1
        return x if calls["n"] < 3 else -1  # right during warm-up, wrong once timed

    def check(got, want):
        assert got == want, "mismatch"

    with pytest.raises(WrongAnswerWhileTimed, match="wrong answer on a timed run: mismatch"):
        measure_speedup(lambda x: x, cheat, [1, 2, 3], check=check, min_rounds=5, max_rounds=5)
