"""What does isolating the worker cost per grading? Grade the same submission with and without it.

    python benchmarks/isolation_cost.py [--runs 10] [--assignment a1] [--select amdahl ...]

Alternates gradings of the assignment's reference solution with bubblewrap isolation (the default)
and with ``PARLAB_ISOLATION=off``, side by side in one run, and prints the median, min and max
seconds per grading of each, the difference, and the one-off cost of finding out whether this
machine can isolate (one sandboxed interpreter start, once per grader process).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.core.course import Course  # noqa: E402
from grader.run import isolation  # noqa: E402
from grader.run.grade import grade_submission  # noqa: E402


def grade_once(a, select: list[str], mode: str) -> tuple[float, str, float]:
    os.environ[isolation.MODE_ENV] = mode
    isolation.detect.cache_clear()
    t0 = time.perf_counter()
    isolation.detect()
    probe = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = grade_submission(a, a.solution_dir, hidden=True, gpu="cudasim", select=select)
    return time.perf_counter() - t0, report.isolation, probe


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10, help="gradings per mode (default 10)")
    parser.add_argument("--assignment", default="a1")
    parser.add_argument("--select", action="append", help="rubric lines to grade (default: all correctness lines)")
    args = parser.parse_args()
    a = Course(ROOT).resolve(args.assignment)
    select = args.select or ["*.*.correctness"]
    times: dict[str, list[float]] = {"auto": [], "off": []}
    probes: list[float] = []
    levels: dict[str, str] = {}
    print(f"{a.id} {', '.join(select)}: {args.runs} gradings per mode, load average {os.getloadavg()[0]:.2f}", flush=True)
    for i in range(args.runs):
        for mode in ("auto", "off") if i % 2 == 0 else ("off", "auto"):
            seconds, level, probe = grade_once(a, select, mode)
            times[mode].append(seconds)
            levels[mode] = level
            if mode == "auto":
                probes.append(probe)
            print(f"  {i + 1:>2} {mode:>4} {seconds:6.2f} s  isolation: {level}", flush=True)
    print("\n| isolation | gradings | s per grading min / median / max |\n|---|---|---|")
    for mode, values in times.items():
        spread = f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"
        print(f"| {levels[mode]} | {len(values)} | {spread} |")
    diff = statistics.median(times["auto"]) - statistics.median(times["off"])
    print(f"\nmedian difference: {diff:+.2f} s per grading; probe (once per process): median {statistics.median(probes):.2f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
