"""How long does a student wait for `grader test`? Every assignment, a full public run and one line,
first and second run, as a student runs it (the `grader` command, the module in the assignment folder).

    python benchmarks/grader_test_speed.py [--assignments a1 a2 ...] [--runs 2]

The student's module is the staff solution copied into a scratch copy of the course, so the speed
lines time real parallel code (a stub would fail at once and say nothing about the wait). "first"
is the first run after numba's on-disk cache was emptied, "second" the run right after it. Prints a
Markdown table of wall seconds (median of --runs pairs) and, per run, where the time went:
start-up and collection vs the tests themselves (from the report's per-test durations). A line
the solution does not pass (pending aside) is printed: a public test that fails the staff's own
code misleads every student.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from grader.core.course import Course  # noqa: E402


def course_copy(dest: Path) -> Path:
    for part in ("assignments", "solutions", "ci", "pyproject.toml"):
        src = ROOT / part
        (shutil.copytree if src.is_dir() else shutil.copyfile)(src, dest / part)
    return dest


def run(course: Path, ident: str, select: list[str], cache: Path) -> tuple[float, float]:
    """Wall seconds of one `grader test`, and the seconds its tests reported."""
    out = course / "result.json"
    cmd = [str(BIN / "grader"), "test", ident, "--course", str(course), "--json", str(out)]
    for s in select:
        cmd += ["-s", s]
    env = {**os.environ, "PARLAB_NUMBA_CACHE": str(cache)}
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"grader test {ident} failed: {done.stderr[-2000:]}")
    tests = json.loads(out.read_text())["tests"]
    for t in tests:  # the staff solution must pass every line this machine can judge
        if t["status"] not in ("passed", "deferred"):
            print(f"  {ident} {t['name']}: {t['status']}: {(t.get('message') or '')[:300]}", flush=True)
    return wall, sum(t["duration"] for t in tests)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignments", nargs="*", default=None)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    course = Course(ROOT)
    idents = args.assignments or [f.name for f in course.assignment_folders()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="grader-test-speed-") as tmp:
        copy = course_copy(Path(tmp) / "course")
        cache = Path(tmp) / "numba-cache"
        for ident in idents:
            a = Course(copy).resolve(ident)
            shutil.copyfile(a.solution_module, a.stub_module)  # the student's finished module
            first_line = str(next(iter(a.spec.lines())))
            times: dict[str, list[tuple[float, float]]] = {k: [] for k in ("full 1st", "full 2nd", "line 1st", "line 2nd")}
            for _ in range(args.runs):
                for label, select in (("full", []), ("line", [first_line])):
                    shutil.rmtree(cache, ignore_errors=True)
                    times[f"{label} 1st"].append(run(copy, ident, select, cache))
                    times[f"{label} 2nd"].append(run(copy, ident, select, cache))
            med = {k: (statistics.median(w for w, _ in v), statistics.median(t for _, t in v)) for k, v in times.items()}
            rows.append((a.id, first_line, med))
            print(f"{a.id}: " + ", ".join(f"{k} {w:.1f} s (tests {t:.1f} s)" for k, (w, t) in med.items()), flush=True)
    print()
    print("| assignment | full, 1st run | full, 2nd run | one line, 1st | one line, 2nd | the line |")
    print("|---|---|---|---|---|---|")
    for ident, line, med in rows:
        cells = " | ".join(
            f"{med[k][0]:.1f} s ({med[k][1]:.1f} in tests)" for k in ("full 1st", "full 2nd", "line 1st", "line 2nd")
        )
        print(f"| {ident} | {cells} | `{line}` |")
    print(f"\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
