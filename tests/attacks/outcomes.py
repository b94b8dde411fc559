"""Grade every attack submission once and print the attack -> outcome table for docs/threat-model.md.

    python tests/attacks/outcomes.py [--perf] [ATTACK ...]

Each attack is the a1 reference solution with the attack file appended (as the attack tests do).
Without ``--perf`` the speed tests are left out except for the attacks aimed at them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

from grader.core.course import Course
from grader.run import isolation
from grader.run.grade import GradingError, grade_submission

ROOT = Path(__file__).resolve().parents[2]
ATTACKS = Path(__file__).resolve().parent / "a1_speedup"
CHEAP = ["amdahl", "fourier.cpu.correctness"]
AIMED_AT_SPEED = {"cache_outputs", "background_thread", "patch_perf_counter", "stopped_children"}
# Harmful where the worker is not isolated (they would kill this script, or every process as root,
# or overwrite files named on this machine's command lines): graded only when isolation is full.
NEEDS_ISOLATION = {"kill_grader", "kill_everything", "reach_outside"}


def outcome(report) -> str:
    hit = [t for t in report.tests if t.score < t.max_score]
    counts = Counter(t.status.value for t in report.tests)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    reasons = sorted({t.message.splitlines()[0][:90] for t in hit if t.message})
    text = f"{report.score:g}/{report.max_score:g} points ({summary})"
    if reasons:
        text += "; " + " / ".join(f"“{r}”" for r in reasons)
    if report.flags:
        text += "; flagged: " + " / ".join(f[:80] for f in report.flags)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--perf", action="store_true", help="include the speed tests for every attack")
    parser.add_argument("only", nargs="*", help="attack names (default: all)")
    args = parser.parse_args()
    a1 = Course(ROOT).resolve("a1")
    solution = (a1.solution_dir / f"{a1.spec.module}.py").read_text()
    print("| attack | outcome |\n|---|---|")
    for attack in sorted(ATTACKS.glob("*.py")):
        if args.only and attack.stem not in args.only:
            continue
        if attack.stem in NEEDS_ISOLATION and not isolation.detect().full:
            print(f"| {attack.stem} | not run: the worker is not isolated here ({isolation.detect().why}) |", flush=True)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            if attack.stem == "poison_course":  # works on a throwaway copy of the course
                import shutil

                for part in ("assignments", "solutions", "tests/hidden"):
                    shutil.copytree(ROOT / part, Path(tmp) / "course" / part)
                target = Course(Path(tmp) / "course").resolve("a1")
            else:
                target = a1
            sub = Path(tmp) / "sub"
            sub.mkdir()
            (sub / f"{a1.spec.module}.py").write_text(solution + "\n" + attack.read_text())
            select = None if args.perf else CHEAP + (["fourier.cpu.performance"] if attack.stem in AIMED_AT_SPEED else [])
            try:
                text = outcome(grade_submission(target, sub, hidden=True, gpu="cudasim", select=select))
            except GradingError as e:
                text = f"grading stopped: “{str(e).splitlines()[0][:100]}”"
        print(f"| {attack.stem} | {text} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
