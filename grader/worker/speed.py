"""Performance tests in one call: measure a speedup, decide the credit, attach the numbers.

Assignment tests call `grade_cpu_speedup` / `grade_gpu_speedup`; the measurement lives in
`timing.py`, the machine probes in `calibration.py` and the credit rule in `speed_verdict.py`, so each
can change without touching any test.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ..core.devices import TIMING_ENV, quick_timing, timing_mode, timing_off
from ..core.spec import PerformanceSpec
from . import numba_cache, speed_verdict
from .gpu import GpuContext
from .testkit import Grading, assert_array_close, defer
from .timing import Measurement, PinUnavailable, measure, pinned_to_one_core


def _record(grading: Grading, decision: speed_verdict.Decision, m: Measurement, cores: int, perf: PerformanceSpec) -> None:
    grading.metric(**m.metrics(), **decision.metrics(), cores=cores, bound=perf.bound)
    if FILL_ONLY:
        defer(FILL_MESSAGE)
    if decision.verdict == "deferred":
        defer(decision.message)
    grading.award(decision.credit, decision.message)


def _check(got: Any, want: Any) -> None:
    assert_array_close(got, want, what="timed result")


QUICK_ROUNDS = {"min_rounds": 8, "max_rounds": 16, "budget_s": 4.0}
# Read once, at import, before any student code runs (the plugin imports this module first), so a
# submission that sets the variable itself changes nothing; the tamper guard watches the global.
QUICK = quick_timing()
OFF = timing_off()
EARLY_STOP = timing_mode() != "minimum"
OFF_MESSAGE = f"not timed: speed lines are switched off in this run ({TIMING_ENV}=off, the grader's own tests)"
# grade-all's course-cache fill grades the staff solution only to compile the course's code
# (`run.grade.fill_course_cache`): one round calls everything a speed line times, and the line is
# then pending, never a grade. Set by the parent for that one grading alone.
FILL_ONLY = numba_cache.filling()
FILL_ROUNDS = {"min_rounds": 1, "max_rounds": 1, "early_rounds": 1}
FILL_MESSAGE = "not timed: compiled once for the class's course cache (grade-all), one round, never a grade"


def _stopping(perf: PerformanceSpec, cores: int) -> dict[str, Any]:
    """When `measure` stops: `speed_verdict`'s rules (no early stop under PARLAB_TIMING=minimum); the
    grader's own tests time with fewer rounds (`devices.quick_timing`), grading with timing's defaults."""
    rules: dict[str, Any] = {
        "decide": lambda m: speed_verdict.clear_enough(perf, cores, m),
        "settled": (lambda m: speed_verdict.settled(perf, cores, m)) if EARLY_STOP else None,
    }
    if FILL_ONLY:
        return {**rules, **FILL_ROUNDS}
    return {**rules, **QUICK_ROUNDS} if QUICK else rules


def grade_cpu_speedup(
    grading: Grading,
    perf: PerformanceSpec,
    cores: int,
    *,
    baseline: Callable[[Any], Any],
    candidate: Callable[[Any], Any],
    inputs: Sequence[Any],
    reference: Callable[[Any], Any] | None = None,
    check: Callable[[Any, Any], None] | None = None,
) -> None:
    """Time the staff serial baseline against the student's parallel code, and the same code on one
    core, with the machine's capacity (and bandwidth, for memory-bound tasks) measured in the same
    rounds; the speedup graded is the part from running in parallel (see `grader.worker.speed_verdict`).

    Every timed result is checked against the baseline's: elementwise within what the dtype
    promises, or by ``check(got, want)`` where a correct answer may differ more (a reduction whose
    terms cancel, added in another order)."""
    if OFF:
        defer(OFF_MESSAGE)
    if min(cores, perf.max_cores) < 2:
        defer("only 1 usable core here, so no parallel speedup can show; graded on a multi-core machine")
    from .calibration import BandwidthProbe, ComputeProbe  # compiles the probes: only when timing

    bandwidth = BandwidthProbe() if perf.bound == "memory" else None
    task_bytes = perf.bytes_per_element * perf.size if perf.bytes_per_element else None
    try:
        m = measure(
            baseline,
            candidate,
            inputs,
            check or _check,
            probe=ComputeProbe(),
            bandwidth=bandwidth,
            reference=reference,
            task_bytes=task_bytes,
            one_core=pinned_to_one_core,
            **_stopping(perf, cores),
        )
    except PinUnavailable as exc:
        defer(f"code cannot be confined to one core here ({exc}), so the parallel part of a speedup cannot be measured")
    _record(grading, speed_verdict.decide_cpu(perf, cores, m), m, cores, perf)


def grade_gpu_speedup(
    grading: Grading,
    perf: PerformanceSpec,
    gpu: GpuContext,
    *,
    baseline: Callable[[Any], Any],
    candidate: Callable[[Any], Any],
    inputs: Sequence[Any],
    copies_included: bool = False,
    check: Callable[[Any, Any], None] | None = None,
) -> None:
    """Time the serial CPU reference against the student's kernel on a real GPU (synchronized).

    The candidate gets the inputs already on the device; with ``copies_included`` it gets the host
    arrays and its own transfers are timed too (a task about overlapping copies with compute).
    ``check`` as for `grade_cpu_speedup`."""
    gpu.require_real_gpu()
    if OFF:
        defer(OFF_MESSAGE)

    def on_gpu(pair):
        out = candidate(pair[1])
        gpu.synchronize()  # the whole device: a kernel on the student's own stream is waited for too
        return out

    m = measure(
        lambda pair: baseline(pair[0]),
        on_gpu,
        list(inputs),
        lambda got, want: (check or _check)(gpu.to_host(got), want),
        # Every round a fresh host input (a few elements redrawn) and, untimed, its own device copy:
        # an output cached on the device array's address or contents misses or is caught as wrong.
        prepare=lambda x: (x, x if copies_included else gpu.to_device(x)),
        **_stopping(perf, 1),
    )
    from ..core.devices import usable_cores

    _record(grading, speed_verdict.decide_fixed(perf, m), m, usable_cores(), perf)
