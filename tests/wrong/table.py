"""Grade every known-wrong submission and print submission -> broken line -> points lost, for the docs.

    python tests/wrong/table.py [ASSIGNMENT ...] [--match TEXT]

Each file in tests/wrong/<assignment>/ is appended to the reference solution (as
tests/assignments/test_wrong_submissions.py does) and graded with the hidden tests: every
correctness line plus the line it declares it breaks.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from grader.course import Course
from grader.grading import grade_submission

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignment folders, e.g. a2_races (default: all)")
    parser.add_argument("--match", default="", help="only submissions whose file name contains this")
    args = parser.parse_args()
    paths = sorted((ROOT / "tests" / "wrong").glob("*/*.py"))
    unknown = set(args.assignments) - {p.parent.name for p in paths}
    if unknown:
        parser.error(f"no known-wrong submissions for {', '.join(sorted(unknown))} (folders of tests/wrong/)")
    course = Course(ROOT)
    print("| submission | breaks | points on that line | other lines | how it shows |\n|---|---|---|---|---|")
    for path in paths:
        if (args.assignments and path.parent.name not in args.assignments) or args.match not in path.stem:
            continue
        a = course.resolve(path.parent.name)
        broken = re.search(r"^# breaks: (\S+)$", path.read_text(), re.M).group(1)
        with tempfile.TemporaryDirectory() as tmp:
            sub = Path(tmp) / "sub"
            sub.mkdir()
            solution = (a.solution_dir / f"{a.spec.module}.py").read_text()
            (sub / f"{a.spec.module}.py").write_text(solution + "\n\n" + path.read_text())
            report = grade_submission(a, sub, hidden=True, gpu="cudasim", select=["*.*.correctness", broken])
        line = [t for t in report.tests if f"{t.task}.{t.part}.{t.kind}" == broken]
        others = [t for t in report.tests if f"{t.task}.{t.part}.{t.kind}" != broken]
        got, top = sum(t.score for t in line), sum(t.max_score for t in line)
        o_got, o_top = sum(t.score for t in others), sum(t.max_score for t in others)
        bad = next((t for t in line if t.score < t.max_score), None)
        how = (bad.message.splitlines()[0][:90] if bad and bad.message else bad.status.value) if bad else "—"
        print(f"| {path.parent.name}/{path.stem} | {broken} | {got:g}/{top:g} | {o_got:g}/{o_top:g} | {how} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
