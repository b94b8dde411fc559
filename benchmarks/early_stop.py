"""What does the early stop save, and does it change a verdict? The same speed lines timed with and
without it, alternately, in one run.

    python benchmarks/early_stop.py [--assignments a1 a4 a5] [--runs 3]

For each assignment, its reference solution and a serial impostor (the solution with every prange
made a range: correct and serial) are graded on every CPU speed line by the public tests (what
`grader test` runs), alternating the default rule (a line may stop from the 8th round when all
rounds but one agree: `speed_verdict.settled`) with `PARLAB_TIMING=minimum` (no line stops before
the 16 minimum rounds). Prints, per submission and rule: seconds of the speed lines per grading,
rounds per line, and every line's verdicts. The two rules must give the same verdicts; the early
one should take fewer rounds. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from speedup_reliability import make_impostor  # noqa: E402

from grader.core.course import Course  # noqa: E402
from grader.core.devices import TIMING_ENV  # noqa: E402
from grader.run.grade import grade_submission  # noqa: E402

RULES = {"early stop": "", "minimum rounds": "minimum"}


def grade_once(a, folder: Path, mode: str) -> list:
    os.environ[TIMING_ENV] = mode
    try:
        report = grade_submission(a, folder, hidden=False, gpu="none", select=["*.cpu.performance"])
    finally:
        os.environ.pop(TIMING_ENV, None)
    return [t for t in report.tests if t.kind == "performance"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignments", nargs="*", default=["a1", "a4", "a5"])
    parser.add_argument("--runs", type=int, default=3, help="gradings per submission and rule")
    args = parser.parse_args()
    course = Course(ROOT)
    rows = []
    for ident in args.assignments:
        a = course.resolve(ident)
        with tempfile.TemporaryDirectory() as tmp:
            subs = {"reference": a.solution_dir}
            if "prange(" in (a.solution_dir / a.spec.module_file).read_text():  # else the impostor is the reference
                subs["serial impostor"] = make_impostor(a.solution_dir, a.spec.module, Path(tmp))
            for label, folder in subs.items():
                seen: dict[str, list[list]] = {rule: [] for rule in RULES}
                for i in range(args.runs):
                    for rule, mode in RULES.items():  # alternate: both rules see the same hour of the machine
                        tests = grade_once(a, folder, mode)
                        seen[rule].append(tests)
                        for t in tests:
                            if t.status.value not in ("passed", "deferred"):
                                print(f"  {t.name}: {t.status.value}: {t.message}", flush=True)
                        verdicts = ", ".join(
                            f"{t.name.removeprefix('test_')} {t.status.value} {t.metrics.get('rounds', '–')} rounds"
                            for t in tests
                        )
                        print(
                            f"{a.id} {label} {i + 1}/{args.runs} {rule}: {sum(t.duration for t in tests):.1f} s; {verdicts}",
                            flush=True,
                        )
                for rule, gradings in seen.items():
                    seconds = [sum(t.duration for t in tests) for tests in gradings]
                    rounds = [t.metrics["rounds"] for tests in gradings for t in tests if "rounds" in t.metrics]
                    verdicts = Counter(f"{t.status.value}" for tests in gradings for t in tests)
                    rows.append((a.id, label, rule, seconds, rounds, verdicts))
    print()
    spread = "(min / median / max)"
    print(f"| assignment | submission | rule | speed lines, s per grading {spread} | rounds per line {spread} | verdicts |")
    print("|---|---|---|---|---|---|")
    for ident, label, rule, seconds, rounds, verdicts in rows:
        r = f"{min(rounds)} / {statistics.median(rounds):g} / {max(rounds)}" if rounds else "–"
        v = ", ".join(f"{n} {k}" for k, n in sorted(verdicts.items()))
        s = f"{min(seconds):.1f} / {statistics.median(seconds):.1f} / {max(seconds):.1f}"
        print(f"| {ident} | {label} | {rule} | {s} | {r} | {v} |")
    print(f"\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
