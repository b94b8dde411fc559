"""What does grade-all's per-submission cache save? One submission's speed grading, with and without
the student's module compiled by its own correctness worker (`run.grade.student_cache_folder`).

    python benchmarks/student_cache.py [--assignment a1] [--pairs 4]

Grades the staff solution as a submission the way grade-all does: the course cache is filled once,
the correctness phase compiles the student's module into the submission's folder, then the speed
phase runs --pairs times with the folder and without it, alternating, and prints the wall seconds
of each speed grading and their medians. Speed lines are timed with few rounds
(PARLAB_TIMING=quick, unless set otherwise) so the fixed cost of a grading is what differs; the
rounds themselves do not depend on the cache. With --full they are timed as in a grading, and each
CPU speed line's verdict and candidate/reference speedup (the student's copy of the solution against
the solution timed in the same rounds: 1.0 when both run alike) are printed too, to show that code
loaded from the folder runs as fast as code compiled in place. Needs full isolation (the folder is a bind).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if "--full" not in sys.argv:
    os.environ.setdefault("PARLAB_TIMING", "quick")
SPEED = ["*.*.performance"]

from grader.core.course import Course  # noqa: E402
from grader.run.grade import fill_course_cache, grade_submission, student_cache_folder  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="a1")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--full", action="store_true", help="full timing; print verdicts and candidate/reference speedups")
    args = parser.parse_args()
    assignment = Course(ROOT).resolve(args.assignment)
    with tempfile.TemporaryDirectory(prefix="student-cache-") as tmp:
        work = Path(tmp)
        sub = work / "submission"
        shutil.copytree(assignment.solution_dir, sub)
        course = fill_course_cache(assignment, work / "course", "none")
        own = student_cache_folder(work / "submissions", "student")
        if course is None or own is None:
            raise SystemExit("needs full isolation and PARLAB_NUMBA_CACHE not off")
        grade_submission(assignment, sub, hidden=True, gpu="none", select=["*.*.correctness"], student_cache=own)
        seconds: dict[str, list[float]] = {"with the submission's cache": [], "without": []}
        verdicts: dict[str, list[str]] = {label: [] for label in seconds}
        for _ in range(args.pairs):
            for label, folder in (("with the submission's cache", own), ("without", None)):
                t0 = time.perf_counter()
                report = grade_submission(
                    assignment, sub, hidden=True, gpu="none", select=SPEED, course_cache=course, student_cache=folder
                )
                seconds[label].append(time.perf_counter() - t0)
                for t in report.tests:
                    m = t.metrics
                    if t.kind == "performance" and t.part == "cpu" and m.get("reference_speedup"):
                        ratio = m["baseline_speedup"] / m["reference_speedup"]
                        verdicts[label].append(f"{t.status.value} {m['speedup']:.2f}x C/R {ratio:.2f}")
    timing = os.environ.get("PARLAB_TIMING", "full")
    print(f"{assignment.id}, speed phase of one submission (PARLAB_TIMING={timing}), {args.pairs} pairs:")
    for label, values in seconds.items():
        print(f"  {label}: {' '.join(f'{v:.2f}' for v in values)} s, median {statistics.median(values):.2f} s")
        if args.full:
            print(f"    {'; '.join(verdicts[label])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
