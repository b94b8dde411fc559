"""Points from measurements: the speedup target for this machine and the credit earned against it."""

from __future__ import annotations

from dataclasses import dataclass

from .spec import PerformanceSpec


@dataclass(frozen=True)
class SpeedupTarget:
    cores: int
    target: float  # full credit at or above
    floor: float  # no credit at or below

    def credit(self, speedup: float) -> float:
        """Linear between floor and target, clamped to [0, 1]."""
        if speedup >= self.target:
            return 1.0
        if speedup <= self.floor:
            return 0.0
        return (speedup - self.floor) / (self.target - self.floor)

    def describe(self, speedup: float, low: float, high: float) -> str:
        return f"{speedup:.2f}× ({low:.2f}–{high:.2f}), target {self.target:.2f}× on {self.cores} cores"


def speedup_target(perf: PerformanceSpec, cores: int) -> SpeedupTarget:
    """Core-scaled target: with c cores, 1 + efficiency·(c−1); the floor likewise with floor_efficiency."""
    c = min(cores, perf.max_cores)
    if perf.target is not None and perf.floor is not None:
        return SpeedupTarget(cores=c, target=perf.target, floor=perf.floor)
    return SpeedupTarget(
        cores=c,
        target=1.0 + perf.efficiency * (c - 1),
        floor=1.0 + perf.floor_efficiency * (c - 1),
    )
