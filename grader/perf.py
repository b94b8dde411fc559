"""Performance tests in one call: measure a speedup, turn it into credit, attach the numbers.

Assignment tests call `grade_cpu_speedup` / `grade_gpu_speedup`; the measurement itself lives in
`timing.py` and the credit rule in `scoring.py`, so both can change without touching any test.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .gpu import GpuContext
from .scoring import speedup_target
from .spec import PerformanceSpec
from .testkit import Grading, assert_array_close, defer
from .timing import measure_speedup


def _award(grading: Grading, perf: PerformanceSpec, cores: int, measurement) -> None:
    target = speedup_target(perf, cores)
    credit = target.credit(measurement.speedup)
    message = f"{target.describe(measurement.speedup, measurement.low, measurement.high)}"
    grading.award(
        credit,
        message,
        **measurement.metrics(),
        target=round(target.target, 3),
        floor=round(target.floor, 3),
        cores=cores,
        bound=perf.bound,
    )


def grade_cpu_speedup(
    grading: Grading,
    perf: PerformanceSpec,
    cores: int,
    *,
    baseline: Callable[[Any], Any],
    candidate: Callable[[Any], Any],
    inputs: Sequence[Any],
) -> None:
    """Time the staff serial baseline against the student's parallel code on this machine's cores."""
    if cores < 2 and perf.target is None:
        defer("only 1 usable core here, so no parallel speedup can show; graded on a multi-core machine")
    measurement = measure_speedup(
        baseline, candidate, inputs, check=lambda got, want: assert_array_close(got, want, what="timed result")
    )
    _award(grading, perf, cores, measurement)


def grade_gpu_speedup(
    grading: Grading,
    perf: PerformanceSpec,
    gpu: GpuContext,
    *,
    baseline: Callable[[Any], Any],
    candidate: Callable[[Any], Any],
    inputs: Sequence[Any],
) -> None:
    """Time the serial CPU reference against the student's kernel on a real GPU (synchronized)."""
    gpu.require_real_gpu()
    pairs = [(x, gpu.to_device(x)) for x in inputs]

    def on_gpu(pair):
        out = candidate(pair[1])
        gpu.synchronize()
        return out

    measurement = measure_speedup(
        lambda pair: baseline(pair[0]),
        on_gpu,
        pairs,
        check=lambda got, want: assert_array_close(gpu.to_host(got), want, what="timed result"),
    )
    from .devices import usable_cores

    _award(grading, perf, usable_cores(), measurement)
