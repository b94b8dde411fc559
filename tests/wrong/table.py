"""Grade the known submissions and print the tables of tests/wrong/README.md and tests/correct/README.md.

    python tests/wrong/table.py [ASSIGNMENT ...] [--match TEXT]             # known-wrong
    python tests/wrong/table.py --correct [ASSIGNMENT ...] [--match TEXT]   # correct-but-different
    python tests/wrong/table.py --correct --speed-only ...                  # only their speed lines

Each file is appended to the reference solution (as tests/assignments/test_wrong_submissions.py
does) and graded with the hidden tests under the strict simulator.

- known-wrong (tests/wrong/<assignment>/): every correctness line plus the line the file declares it
  breaks; one row per file: submission -> broken line -> points lost.
- correct-but-different (tests/correct/<assignment>/): every correctness line plus the speed lines
  of the parts the file changes (a speed line it cannot change runs the reference's own code); one
  table per assignment, a column per rubric line, "—" for a speed line not measured.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from grader.core.course import Course
from grader.core.results import Status
from grader.run.grade import grade_submission
from tests.assignments.test_wrong_submissions import (
    breaks,
    differs,
    first_line,
    lines_of,
    submission_folder,
    touched_lines,
)


def wrong_table(course: Course, paths: list[Path]) -> None:
    print("| submission | breaks | points on that line | other lines | how it shows |\n|---|---|---|---|---|")
    for path in paths:
        a = course.resolve(path.parent.name)
        broken = breaks(path)
        with tempfile.TemporaryDirectory() as tmp:
            folder = submission_folder(a, path, Path(tmp))
            report = grade_submission(a, folder, hidden=True, gpu="cudasim", select=["*.*.correctness", broken])
        line = [t for t in report.tests if str(t.line) == broken]
        others = [t for t in report.tests if str(t.line) != broken]
        got, top = sum(t.score for t in line), sum(t.max_score for t in line)
        o_got, o_top = sum(t.score for t in others), sum(t.max_score for t in others)
        bad = next((t for t in line if t.score < t.max_score), None)
        how = (bad.message.splitlines()[0][:90] if bad and bad.message else bad.status.value) if bad else "—"
        print(f"| {path.parent.name}/{path.stem} | {broken} | {got:g}/{top:g} | {o_got:g}/{o_top:g} | {how} |", flush=True)


def _why_deferred(message: str) -> str:
    """What a deferred speed line measured, in a few words: the speedup and the machine's capacity K."""
    if "GPU" in message and "×" not in message:
        return " (no GPU)"
    measured = re.search(r"your code measured ([\d.]+×)", message)
    capacity = re.search(r"delivered ([\d.]+)×", message)
    parts = [f"{measured.group(1)} measured" if measured else "", f"K {capacity.group(1)}" if capacity else ""]
    return f" ({', '.join(p for p in parts if p)})" if any(parts) else f": {first_line(message)[:80]}"


def _cell(tests) -> str:
    """One rubric line of one submission: points, and for a speed line how it was judged."""
    got, top = sum(t.score for t in tests), sum(t.max_score for t in tests)
    statuses = {t.status for t in tests}
    if statuses == {Status.passed}:
        return f"{got:g}/{top:g}"
    if statuses == {Status.deferred}:
        return f"–/{top:g} deferred" + _why_deferred(" ".join(t.message or "" for t in tests))
    worst = next(t for t in tests if t.status is not Status.passed)
    speed = re.match(r"[\d.]+×", worst.message or "")
    return f"{got:g}/{top:g} {worst.status.value}" + (f" {speed.group(0)}" if speed else f": {first_line(worst.message)[:80]}")


def speed_lines(a, path: Path) -> list[str]:
    """The speed lines of the parts a correct-but-different file changes."""
    touched = touched_lines(a, path)
    return [
        f"{t.name}.{name.value}.performance"
        for t in a.spec.tasks
        for name, p in t.parts.items()
        if p.performance and ("*.*.correctness" in touched or f"{t.name}.{name.value}.correctness" in touched)
    ]


def correct_table(course: Course, paths: list[Path], speed_only: bool = False) -> None:
    for ident in sorted({p.parent.name for p in paths}):
        a = course.resolve(ident)
        columns = [str(line) for line in a.spec.lines()]
        print(f"\n**{ident}**\n")
        print("| submission | differs | " + " | ".join(columns) + " | total |")
        print("|---|---|" + "---|" * len(columns) + "---|", flush=True)
        for path in (p for p in paths if p.parent.name == ident):
            speed = speed_lines(a, path)
            if speed_only and not speed:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                folder = submission_folder(a, path, Path(tmp))
                report = grade_submission(
                    a, folder, hidden=True, gpu="cudasim", select=speed if speed_only else ["*.*.correctness", *speed]
                )
            by_line: dict[str, list] = {}
            for t in report.tests:
                by_line.setdefault(str(t.line), []).append(t)
            cells = [_cell(by_line[c]) if c in by_line else "—" for c in columns]
            lines = lines_of(report)
            judged = [(s, m) for s, m, st in lines.values() if Status.deferred not in st]
            later = sum(m for _, m, st in lines.values() if Status.deferred in st)
            total = f"{sum(s for s, _ in judged):g}/{sum(m for _, m in judged):g}" + (f" (+{later:g} pending)" if later else "")
            print(f"| {path.stem} | {differs(path)} | " + " | ".join(cells) + f" | {total} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignment folders, e.g. a2_races (default: all)")
    parser.add_argument("--match", default="", help="only submissions whose file name contains this")
    parser.add_argument("--correct", action="store_true", help="grade tests/correct instead of tests/wrong")
    parser.add_argument("--speed-only", action="store_true", help="with --correct: only the speed lines (quicker)")
    args = parser.parse_args()
    folder = ROOT / "tests" / ("correct" if args.correct else "wrong")
    paths = sorted(folder.glob("*/*.py"))
    unknown = set(args.assignments) - {p.parent.name for p in paths}
    if unknown:
        parser.error(f"no submissions for {', '.join(sorted(unknown))} in {folder.relative_to(ROOT)}/")
    paths = [p for p in paths if (not args.assignments or p.parent.name in args.assignments) and args.match in p.stem]
    if args.correct:
        correct_table(Course(ROOT), paths, speed_only=args.speed_only)
    else:
        wrong_table(Course(ROOT), paths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
