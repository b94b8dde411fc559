"""From a speedup measurement to points: targets that follow what the machine can show.

The rule for a CPU part with c usable cores (capped at the spec's max_cores):

- capacity K: the speedup the staff's perfectly parallel probe gets in the same rounds (≤ c).
  For a memory-bound task K is further capped by bandwidth: the parallel bandwidth probe's bytes/s
  divided by what the serial baseline, or the candidate on one core where that is faster, already moves,
  and by the spec's parallel_bytes_per_element / bytes_per_element (extra traffic any parallel
  algorithm needs: a two-pass scan reads its input twice).
- If K < 1 + MIN_CAPACITY_SHARE·(c−1), this machine cannot tell parallel code from serial code
  right now: the test is *deferred* (never failed), with the numbers in the message.
- target = 1 + efficiency·(K/w−1), w the spec's work_factor (the parallel algorithm's work over the
  serial loop's: 2 for a two-pass scan, so 2 cores can never show it); with the reference
  solution timed alongside (trusted grading), never more than the reference's own speedup /
  REFERENCE_SLACK (CS149: within 1.2× of the reference time is full credit).
- floor  = 1 + floor_efficiency·(c−1), fixed by the cores: a serial program never gets past it.
- credit is linear in the median speedup between floor (0) and target (1), once the measurement can
  tell: if the speedup's interval reaches from under the floor to over the target and is wider than
  NOISY_WIDTH of the median, the same rounds support no credit and full credit alike, and the line
  is *deferred* (on a noisy VM a program that is 90 % serial measured 1.50× (1.14–1.87) from
  parallelism, full credit by its median, while the reference solution measured 1.31× to 1.49×:
  benchmarks/README.md, "Constants"). A narrow interval at the boundary is scored by its median.
- rounds during which the VM's host took the CPUs are set aside (`timing.STEAL_LIMIT`); too few
  undisturbed ones defer the line.
- when to stop timing: after the minimum rounds, once the interval settles it (`clear_enough`);
  from the 8th round, earlier, when all rounds but one give the medians' verdict alone (`settled`).

The speedup is the part that comes from running in parallel: min(C1/C, B/C), each the median over the rounds, where
C1 is the candidate's own time confined to one core, taken over what the pin costs a serial staff
kernel in the same round (see `grader.worker.timing.graded_speedup`). A serial program runs as
fast on one core, so however fast its loop, it stays under the floor; code slower than the
baseline's serial loop gets no more than its real speedup over it. Messages give both ratios. If
the process used more than one core's worth of CPU while pinned (the parallel probe before the
rounds, or the candidate's one-core calls), the pin did not hold here and the test is deferred.

GPU parts use the spec's fixed target and floor (their speed has nothing to do with CPU cores).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Literal, Sequence

from ..core.spec import PerformanceSpec
from .timing import HOST_STEAL, Measurement

MIN_CAPACITY_SHARE = 0.4  # 1.4x on 2 cores, 2.2x on 4: below that, defer (why: benchmarks/README.md, "Constants")
REFERENCE_SLACK = 1.2
BACKGROUND_CPU_LIMIT = 0.3  # CPU of other threads per wall second, during baseline calls or between rounds
CLEAR_WIDTH = 0.04  # an interval narrower than 4 % of the speedup settles a partial score
NOISY_WIDTH = 0.20  # an interval wider than 20 % of the speedup that spans floor and target decides nothing
PINNED_CORES_LIMIT = 1.2  # CPU per wall second while pinned: <= 1.0 when the pin holds (any load), ~1.9 unpinned
BEHIND_ON_ONE_CORE = 0.85  # B/C1 under this (one core takes 1.18x the serial loop's time): the partial's cause is serial speed


@dataclass(frozen=True)
class SpeedupTarget:
    target: float  # full credit at or above
    floor: float  # no credit at or below

    def credit(self, speedup: float) -> float:
        """Linear between floor and target, clamped to [0, 1]."""
        if speedup >= self.target:
            return 1.0
        if speedup <= self.floor:
            return 0.0
        return (speedup - self.floor) / (self.target - self.floor)


def core_target(perf: PerformanceSpec, cores: float) -> SpeedupTarget:
    """The target a machine delivering ``cores`` worth of parallelism sets (fixed for GPU parts)."""
    if perf.target is not None and perf.floor is not None:
        return SpeedupTarget(target=perf.target, floor=perf.floor)
    c = min(cores, perf.max_cores)
    target = 1.0 + perf.efficiency * (c / perf.work_factor - 1)
    return SpeedupTarget(target=target, floor=1.0 + perf.floor_efficiency * (c - 1))


@dataclass(frozen=True)
class Decision:
    verdict: Literal["scored", "deferred", "rejected"]
    credit: float
    message: str
    target: float | None = None
    floor: float | None = None
    capacity: float | None = None  # parallelism available to this task right now (bandwidth included)

    def metrics(self) -> dict:
        out = {"decision": self.verdict, "credit": round(self.credit, 4)}
        for key in ("target", "floor", "capacity"):
            value = getattr(self, key)
            if value is not None:
                out[key if key != "capacity" else "usable_capacity"] = round(value, 3)
        return out


def _range(m: Measurement) -> str:
    """The graded speedup with its interval and, where the candidate also ran on one core, where it comes from."""
    low, high = m.interval
    if m.self_speedup is None:
        return f"{m.speedup:.2f}× ({low:.2f}–{high:.2f})"
    return (
        f"{m.speedup:.2f}× from parallelism ({low:.2f}–{high:.2f}; {m.baseline_speedup:.2f}× over the baseline, "
        f"{m.single_core_speedup:.2f}× on one core)"
    )


def _why_low(m: Measurement, floor: float, credit: float) -> str:
    """Why a fast program earns little: its speed is serial speed, or its serial part is slow (at the
    floor, or holding a partial down: a4's column panels gain 1.9× from 2 cores at 0.5× on one)."""
    if m.self_speedup is None:
        return ""
    if m.speedup <= floor:
        if m.baseline_speedup > floor and m.self_speedup <= floor:
            return (
                f"; your code is as fast on one core ({m.self_speedup:.2f}× from more cores): "
                "only the speedup from running in parallel earns points"
            )
        if m.self_speedup > floor and m.baseline_speedup <= floor:
            return f"; on one core your code takes {1 / m.single_core_speedup:.2f}× the baseline's time"  # type: ignore[operator]
    one, own = m.single_core_speedup, m.self_speedup
    if credit >= 1.0 or one is None or one >= BEHIND_ON_ONE_CORE or own <= m.speedup:
        return ""
    return (
        f"; your code gains {own:.2f}× from more cores, but on one core it takes {1 / one:.2f}× the baseline's "
        "time: what to try: make each thread's share as fast as the serial loop (walk memory in the order it "
        "is laid out, no extra passes or per-element work the serial loop does not do)"
    )


def _host_took_the_cpus(m: Measurement) -> Decision:
    """Too few rounds the VM's host left alone: nothing here is a measurement of the code."""
    kept = len(m.rounds)
    share = f"{m.host_steal:.0%} of" if m.host_steal is not None else "part of"
    measured = f" (the {kept} undisturbed rounds measured {_range(m)})" if kept >= 2 else ""
    return Decision(
        "deferred",
        0.0,
        f"this virtual machine's host took {share} its CPU time while your code was timed: {m.set_aside} of "
        f"{kept + m.set_aside} rounds were disturbed and set aside, too few undisturbed ones were left to "
        f"judge{measured}; rerun on a quieter machine",
    )


def decide_cpu(perf: PerformanceSpec, cores: int, m: Measurement) -> Decision:
    """Score a CPU speedup measurement (see the module docstring for the rule)."""
    if m.stop_reason == HOST_STEAL:
        return _host_took_the_cpus(m)
    c = min(cores, perf.max_cores)
    if m.background_cpu > BACKGROUND_CPU_LIMIT:
        return Decision(
            "rejected",
            0.0,
            f"your code kept using CPU after returning (its threads or processes used {m.background_cpu:.0%} of a core "
            "while only the grader's code ran): stop every thread and process before returning",
        )
    if m.pinned_cores is not None and m.pinned_cores > PINNED_CORES_LIMIT:
        return Decision(
            "deferred",
            0.0,
            f"this machine could not confine code to one core (pinned to one, the process still used "
            f"{m.pinned_cores:.2f} cores' worth of CPU), so the parallel part of your speedup cannot "
            f"be told apart here; rerun on another machine (your code measured {_range(m)})",
        )
    capacity = min(m.capacity or 1.0, float(c))
    limit = "cores"
    if perf.bound == "memory" and m.bandwidth_ceiling and m.achieved_bandwidth("baseline"):
        # Room for a parallel speedup: the ceiling over the faster serial rate, the baseline's or
        # the candidate's own on one core (min(C1/C, B/C) can exceed neither ratio).
        serial_bw, whose = m.achieved_bandwidth("baseline"), "the serial baseline"
        if m.self_speedup is not None and m.achieved_bandwidth("single_core") > serial_bw:  # type: ignore[operator]
            serial_bw, whose = m.achieved_bandwidth("single_core"), "your code on one core"
        extra = (perf.parallel_bytes_per_element or perf.bytes_per_element) / perf.bytes_per_element  # type: ignore[operator]
        bw_room = m.bandwidth_ceiling / serial_bw / extra  # type: ignore[operator]
        if bw_room < capacity:
            capacity, limit = bw_room, "bandwidth"
    fixed = core_target(perf, c)
    need = 1.0 + MIN_CAPACITY_SHARE * (c - 1)
    if c < 2 or capacity < need:
        if limit == "bandwidth":
            moved, ceiling = serial_bw / 1e9, m.bandwidth_ceiling / 1e9  # type: ignore[operator]
            share = "as much as" if moved >= ceiling else "most of"
            why = (
                f"memory-bound: {whose} already moves {moved:.1f} GB/s, {share} the {ceiling:.1f} GB/s this "
                "machine's memory delivered to the bandwidth probe"
            )
            if extra > 1:
                why += (
                    f", and a parallel version must move {perf.parallel_bytes_per_element:g} bytes an element where the "
                    f"serial loop moves {perf.bytes_per_element:g}: at most {bw_room:.2f}× faster here"
                )
            else:
                why += ", so more cores have no bandwidth left to use"
            then = "a machine with more memory bandwidth grades it"  # waiting for a quieter moment rarely helps
        elif c < 2:
            why, then = "only 1 usable core", "a machine with more cores grades it"
        else:
            why = f"{c} usable cores delivered {capacity:.2f}× on the calibration kernel (needs {need:.2f}×)"
            then = "rerun on a quieter machine"
        return Decision(
            "deferred",
            0.0,
            f"{why}; a parallel speedup cannot be judged here, {then} (your code measured {_range(m)})",
            capacity=capacity,
        )
    target = core_target(perf, capacity).target
    ref = m.reference_speedup
    if ref is not None:
        target = min(target, ref / REFERENCE_SLACK)
    if target <= fixed.floor:  # a serial program would reach the target: nothing here can tell them apart
        then = "a parallel speedup cannot be judged here, rerun on a quieter machine"
        if ref is not None and ref / REFERENCE_SLACK <= fixed.floor:
            why = f"the reference solution itself reached only {ref:.2f}× here"
        elif perf.work_factor > 1 and 1.0 + perf.efficiency * (capacity - 1.0) > fixed.floor:  # the work factor did it
            why = (
                f"a parallel version of this task does {perf.work_factor:g}× the serial loop's work, so the "
                f"{capacity:.2f}× this machine's {c} cores delivered leaves it at most {capacity / perf.work_factor:.2f}×: "
                f"its target ({target:.2f}×) is at or under the {fixed.floor:.2f}× a serial program can reach"
            )
            then = "a machine with more cores grades it"
        else:
            why = (
                f"{c} usable cores delivered {capacity:.2f}× on the calibration kernel, which puts this task's "
                f"target ({target:.2f}×) at or under the {fixed.floor:.2f}× a serial program can reach"
            )
        return Decision("deferred", 0.0, f"{why}; {then} (your code measured {_range(m)})", capacity=capacity)
    rule = SpeedupTarget(target=target, floor=fixed.floor)
    if _undecided(m, rule):
        return _too_noisy(m, rule, capacity)
    credit = rule.credit(m.speedup)
    bw = ""
    if m.task_bytes is not None and m.bandwidth_ceiling:
        achieved = m.achieved_bandwidth()
        ceiling = m.bandwidth_ceiling
        bw = f"; {achieved / 1e9:.1f} GB/s = {achieved / ceiling:.0%} of the {ceiling / 1e9:.1f} GB/s ceiling"  # type: ignore[operator]
    why = _why_low(m, fixed.floor, credit)
    message = f"{_range(m)}, target {target:.2f}× (machine delivers {capacity:.2f}× on {c} cores){bw}{why}"
    if credit < 1.0 and not why:
        message += _what_to_try(m.speedup)
    return Decision("scored", credit, message, target=target, floor=fixed.floor, capacity=capacity)


def _what_to_try(speedup: float) -> str:
    """The usual reasons a CPU speedup falls short, for a line that did not earn all its points."""
    if speedup < 0.9:
        return (
            "; what to try: slower than the serial code means the parallel version does more work or uses "
            "memory badly: a parallel loop over the inner index (each thread striding through memory), "
            "threads writing to the same cache lines, or per-call start-up (processes, pools, copies) that "
            "costs more than the work"
        )
    if speedup < 1.1:
        return (
            "; what to try: no parallel speedup at all usually means the work is not split: is the outer loop "
            "a prange in an @njit(parallel=True) function (or are the threads/processes really running at once), "
            "and does each iteration do a real share of the work?"
        )
    return (
        "; what to try: give each thread fewer, larger pieces of work (less scheduling and start-up cost), "
        "split it evenly (no thread left with the slow part), and keep shared writes out of the loop"
    )


def _undecided(m: Measurement, rule: SpeedupTarget) -> bool:
    """The measured interval holds both a speedup worth nothing and one worth every point, and is
    too wide to call the boundary case it would be on a quiet machine."""
    low, high = m.interval
    return low <= rule.floor and high >= rule.target and high - low > NOISY_WIDTH * m.speedup


def _too_noisy(m: Measurement, rule: SpeedupTarget, capacity: float | None = None) -> Decision:
    return Decision(
        "deferred",
        0.0,
        f"the rounds varied too much to judge here: your code measured {_range(m)}, a range that holds both "
        f"no credit (≤ {rule.floor:.2f}×) and full credit (≥ {rule.target:.2f}×); rerun on a quieter machine",
        target=rule.target,
        floor=rule.floor,
        capacity=capacity,
    )


def decide_fixed(perf: PerformanceSpec, m: Measurement) -> Decision:
    """Score against the spec's fixed target (GPU parts); deferred when the interval cannot tell."""
    if m.stop_reason == HOST_STEAL:
        return _host_took_the_cpus(m)
    rule = core_target(perf, 1)
    if _undecided(m, rule):
        return _too_noisy(m, rule)
    return Decision(
        "scored", rule.credit(m.speedup), f"{_range(m)}, target {rule.target:.2f}×", target=rule.target, floor=rule.floor
    )


def clear_enough(perf: PerformanceSpec, cores: int, m: Measurement) -> bool:
    """Stop rule: more rounds would not change the outcome."""
    d = _decision(perf, cores, m)
    if d.verdict == "rejected":
        return True
    if d.verdict == "deferred":
        if _never_judgeable(perf, cores):
            return True
        return d.capacity is not None and d.capacity < 1.0 + 0.8 * MIN_CAPACITY_SHARE * (min(cores, perf.max_cores) - 1)
    low, high = m.interval
    assert d.target is not None and d.floor is not None
    return low >= d.target or high <= d.floor or (high - low) < CLEAR_WIDTH * m.speedup


def settled(perf: PerformanceSpec, cores: int, m: Measurement) -> bool:
    """Early stop rule, before the minimum rounds: the verdict of the medians, which all rounds but
    one give on their own too. Full credit needs all rounds but the lowest of each of the two ratios
    (over the baseline, over itself on one core) at or over the target that all but the best round's
    capacity would set (`_high_target`); no credit, all but the highest round of one of the two
    ratios at or under the floor; a line no measurement here can judge (`work_factor`) needs no more.

    The second-lowest of n rounds is a distribution-free lower bound of the median: were the true
    median under it, at most one round of eight would fall below, with probability 9/256 (3.5 %),
    stricter than the 80 % bootstrap interval (10 % a side) that settles a line after the minimum
    rounds. Partial credit waits for those rounds. Measured: benchmarks/README.md, "Early stop".
    """
    d = _decision(perf, cores, m)
    if d.verdict == "deferred":
        return _never_judgeable(perf, cores)
    if d.verdict == "rejected":  # zero points for code left running: only on the minimum rounds' medians
        return False
    assert d.target is not None and d.floor is not None
    base = [r.baseline_speedup for r in m.rounds]
    own = [r.self_speedup for r in m.rounds]  # None each round for GPU parts (no one-core timing)
    if d.credit >= 1.0:
        bar = _high_target(perf, cores, m, d.target)
        return _but_one(base) >= bar and (None in own or _but_one(own) >= bar)  # type: ignore[arg-type]
    if d.credit <= 0.0:
        serial = None not in own and _but_one(own, top=True) <= d.floor  # type: ignore[arg-type]
        return serial or _but_one(base, top=True) <= d.floor
    return False


def _decision(perf: PerformanceSpec, cores: int, m: Measurement) -> Decision:
    """The verdict of the rounds so far: against the cores' capacity (CPU) or the spec's fixed target (GPU)."""
    return decide_cpu(perf, cores, m) if perf.target is None else decide_fixed(perf, m)


def _never_judgeable(perf: PerformanceSpec, cores: int) -> bool:
    """Not even every core at full speed could make the line judgeable here (a6's work factor on 2 cores)."""
    best = core_target(perf, cores)
    return best.target <= best.floor


def _but_one(values: Sequence[float], *, top: bool = False) -> float:
    """The second lowest (``top``: second highest): a bound of the median one stray round cannot move."""
    ordered = sorted(values, reverse=top)
    return ordered[1] if len(ordered) > 1 else ordered[0]


def _high_target(perf: PerformanceSpec, cores: int, m: Measurement, target: float) -> float:
    """The target scaled by how far the second-best round's capacity (probe, bandwidth room, the
    reference's own speedup) lies over its median, at most what an ideal machine with these cores
    sets: a good moment for the machine must not lower the bar the student's rounds are held to."""
    if perf.target is not None:
        return target
    spread = 1.0
    for values in (
        [r.capacity for r in m.rounds],
        [r.baseline / r.bandwidth_parallel if r.bandwidth_parallel else None for r in m.rounds],
        [r.baseline / r.reference if r.reference else None for r in m.rounds],
    ):
        if values and None not in values:
            spread = max(spread, _but_one(values, top=True) / statistics.median(values))  # type: ignore[arg-type]
    return min(target * spread, core_target(perf, cores).target)
