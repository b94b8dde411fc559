"""Speedup measurement: a serial baseline and a candidate timed side by side, in one run.

Interim method (the adaptive, capacity-aware measurement replaces it): after a warm-up call of each
(so JIT compilation is never timed), run rounds in A B B A order on rotating inputs, check every
candidate output, and report the median of the per-round ratios baseline/candidate. Pairing each
baseline with its neighbouring candidate run cancels slow drifts in machine load; the median
ignores single disturbed rounds. (Best-of-N was tried and rejected: on an idle 2-core box the
serial run's best time enjoys a single-core clock boost, which cut a true 1.95x to 1.78x.)
Raw samples are kept in the result.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

# Clocks are bound at import, before any student code runs.
_clock = time.perf_counter

WARMUP_CALLS = 1
MIN_ROUNDS = 5
MAX_ROUNDS = 21
TIME_BUDGET_S = 10.0


@dataclass(frozen=True)
class SpeedupMeasurement:
    speedup: float  # median over rounds of baseline time / candidate time
    low: float  # 25th percentile of the per-round ratios
    high: float  # 75th percentile
    rounds: int
    baseline_s: tuple[float, ...] = field(repr=False)
    candidate_s: tuple[float, ...] = field(repr=False)

    def metrics(self) -> dict[str, Any]:
        return {
            "speedup": round(self.speedup, 3),
            "speedup_low": round(self.low, 3),
            "speedup_high": round(self.high, 3),
            "rounds": self.rounds,
            "baseline_best_s": round(min(self.baseline_s), 6),
            "candidate_best_s": round(min(self.candidate_s), 6),
        }


class WrongAnswerWhileTimed(AssertionError):
    """The candidate returned a wrong answer on a timed run: its speed earns nothing."""


def _timed(fn: Callable[[Any], Any], arg: Any) -> tuple[float, Any]:
    start = _clock()
    out = fn(arg)
    return _clock() - start, out


def measure_speedup(
    baseline: Callable[[Any], Any],
    candidate: Callable[[Any], Any],
    inputs: Sequence[Any],
    check: Callable[[Any, Any], None],
    *,
    min_rounds: int = MIN_ROUNDS,
    max_rounds: int = MAX_ROUNDS,
    budget_s: float = TIME_BUDGET_S,
) -> SpeedupMeasurement:
    """Time baseline and candidate interleaved; ``check(candidate_out, baseline_out)`` must not raise."""
    if not inputs:
        raise ValueError("measure_speedup needs at least one input")
    for arg in inputs[:1]:
        for _ in range(WARMUP_CALLS):
            baseline(arg)
            candidate(arg)
    base: list[float] = []
    cand: list[float] = []
    started = _clock()
    rounds = 0
    while rounds < max_rounds and (rounds < min_rounds or _clock() - started < budget_s):
        arg = inputs[rounds % len(inputs)]
        order = (0, 1) if rounds % 2 == 0 else (1, 0)
        outs: dict[int, Any] = {}
        for which in order:
            t, outs[which] = _timed(baseline if which == 0 else candidate, arg)
            (base if which == 0 else cand).append(t)
        try:
            check(outs[1], outs[0])
        except AssertionError as exc:
            raise WrongAnswerWhileTimed(f"wrong answer on a timed run: {exc}") from None
        rounds += 1
    ratios = sorted(b / c for b, c in zip(base, cand, strict=True))
    return SpeedupMeasurement(
        speedup=statistics.median(ratios),
        low=_quantile(ratios, 0.25),
        high=_quantile(ratios, 0.75),
        rounds=rounds,
        baseline_s=tuple(base),
        candidate_s=tuple(cand),
    )


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)
