"""Does the same submission get the same verdict every time? Grade known submissions N times.

    python benchmarks/verdict_stability.py tests/wrong/a2_races/racy_histogram_cpu.py [...] \
        [--runs 20] [--busy]

Each file (a known-wrong one from tests/wrong/, or a correct-but-different one from
tests/correct/) is appended to its assignment's reference solution and graded N times with the
hidden tests under the strict simulator, on the rubric line it names (`# breaks: task.part.kind`)
or, for a correct one, on the correctness lines of the parts whose functions it redefines (the
selection tests/assignments/test_wrong_submissions.py makes). With `--busy` a spinning process holds
one core for the whole run: the condition under which a race used to hide (threads taking turns).

One row per file: how many gradings lost points on the line (wrong files must lose them in every
grading), the points of each grading, and the seconds per grading.

With `--speed` the CPU speed lines of the parts a file touches are graded instead (no simulator),
and each grading's verdict is listed: a correct parallel submission must get the same verdict in
every quiet grading. A solution file itself (solutions/<id>/<module>.py) grades the reference on
every CPU speed line.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from speedup_reliability import one_core_busy  # noqa: E402 - the same spinning neighbour as there

from grader.core.course import Course  # noqa: E402
from grader.run.grade import GradingError, grade_submission  # noqa: E402
from tests.assignments.test_wrong_submissions import touched_lines  # noqa: E402

RETRIES = 5  # gradings voided because the course checkout was edited meanwhile are run again


def line_of(path: Path) -> str | None:
    found = re.search(r"^# breaks: (\S+)$", path.read_text(), re.M)
    return found.group(1) if found else None


def speed_lines(a, path: Path) -> list[str]:
    """The CPU speed lines of the parts ``path`` redefines (all of them for the reference itself)."""
    every = [
        f"{t.name}.{name.value}" for t in a.spec.tasks for name, p in t.parts.items() if name.value == "cpu" and p.performance
    ]
    if path == (a.solution_dir / f"{a.spec.module}.py").resolve():
        return [f"{x}.performance" for x in every]
    touched = touched_lines(a, path)
    parts = set(every) if touched == ["*.*.correctness"] else {x.rsplit(".", 1)[0] for x in touched}
    return [f"{x}.performance" for x in every if x in parts]


def grade_once(course: Course, path: Path, speed: bool = False) -> tuple[float, float, float, str]:
    """(points on the line, its maximum, seconds, verdicts) for one grading of ``path``."""
    a = course.resolve(path.parent.name)
    line = line_of(path)
    select = speed_lines(a, path) if speed else [line] if line else touched_lines(a, path)
    solution = (a.solution_dir / f"{a.spec.module}.py").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sub"
        folder.mkdir()
        is_reference = path == (a.solution_dir / f"{a.spec.module}.py").resolve()
        (folder / f"{a.spec.module}.py").write_text(solution if is_reference else solution + "\n\n" + path.read_text())
        for attempt in range(RETRIES + 1):
            t0 = time.perf_counter()
            try:
                report = grade_submission(a, folder, hidden=True, gpu="none" if speed else "cudasim", select=select)
                break
            except GradingError as exc:  # someone edited the course meanwhile: not the submission's verdict
                if "checkout changed" not in str(exc) or attempt == RETRIES:
                    raise
                print(f"  (grading of {path.stem} voided by an edit to the course checkout; again)", file=sys.stderr)
                time.sleep(5)
        seconds = time.perf_counter() - t0
    verdicts = "+".join(t.status.value for t in report.tests)
    if os.environ.get("VERDICT_MESSAGES"):
        for t in report.tests:
            print(f"  {t.task}.{t.part}.{t.kind} {t.status.value}: {t.message[:300]}", file=sys.stderr)
    return sum(t.score for t in report.tests), sum(t.max_score for t in report.tests), seconds, verdicts


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+", type=Path, help="known-wrong or correct-but-different submission files")
    parser.add_argument("--runs", type=int, default=20, help="gradings per file (default 20)")
    parser.add_argument("--busy", action="store_true", help="keep one core busy with a spinning process meanwhile")
    parser.add_argument("--speed", action="store_true", help="grade the CPU speed lines the files touch, not correctness")
    args = parser.parse_args()
    missing = [str(p) for p in args.files if not p.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    course = Course(ROOT)
    condition = "one core busy" if args.busy else "idle"
    print(f"load average before: {os.getloadavg()[0]:.2f}; condition: {condition}; runs: {args.runs}\n")
    print("| submission | line | condition | gradings losing points | points per grading | verdicts | s per grading |")
    print("|---|---|---|---|---|---|---|", flush=True)
    with one_core_busy(args.busy):
        for path in args.files:
            if args.speed and not speed_lines(course.resolve(path.parent.name), path.resolve()):
                print(f"| {path.parent.name}/{path.stem} | (no CPU speed line) | | | | | |", flush=True)
                continue
            results = [grade_once(course, path.resolve(), args.speed) for _ in range(args.runs)]
            lost = sum(got < top - 1e-9 for got, top, _, _ in results)
            points = " ".join(f"{got:.2g}" for got, _, _, _ in results)
            top = results[0][1]
            seconds = sum(s for _, _, s, _ in results) / len(results)
            tally = Counter(v for _, _, _, v in results)
            verdicts = ", ".join(f"{v} {n}" for v, n in tally.most_common())
            label = f"{path.parent.name}/{path.stem}"
            a = course.resolve(path.parent.name)
            line = ", ".join(speed_lines(a, path.resolve())) if args.speed else line_of(path) or ", ".join(touched_lines(a, path))
            print(
                f"| {label} | {line} | {condition} | {lost}/{args.runs} | {points} (of {top:g}) | {verdicts} | {seconds:.1f} |",
                flush=True,
            )
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
