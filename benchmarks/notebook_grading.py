"""How long a notebook takes to grade: nbgrader autograde of the exported notebook vs `grader grade`.

    .venv/bin/python benchmarks/notebook_grading.py --assignment a1 --runs 3

Exports the assignment for nbgrader (`grader export nbgrader`), then, alternately in each round,
autogrades the reference notebook through nbgrader's API (its kernel runs every cell; the first
test cell grades every rubric line with the grader, the others reuse that report) and grades the
same code as a notebook with `grader grade` (the engine alone). Prints seconds per notebook and
the points each route gave. Needs `pip install -e '.[notebooks]'`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.core.course import Course  # noqa: E402
from grader.notebooks.nbgrader import export_nbgrader, generate_student_version, nbgrader_api  # noqa: E402
from grader.run.grade import grade_submission  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="a1")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from nbgrader.api import Gradebook

    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    a = Course(ROOT).resolve(args.assignment)
    with tempfile.TemporaryDirectory(prefix="parlab-nb-bench-") as tmp:
        made = export_nbgrader(a, Path(tmp) / "course")
        generate_student_version(made)
        api = nbgrader_api(made.root)
        nbgrader_s, engine_s, points = [], [], {}
        for run in range(args.runs):
            student = f"s{run}"
            folder = made.root / "submitted" / student / a.id
            folder.mkdir(parents=True)
            shutil.copy(made.notebook, folder / made.notebook.name)
            started = time.monotonic()
            done = api.autograde(a.id, student)
            nbgrader_s.append(time.monotonic() - started)
            assert done["success"], done["error"]
            with Gradebook(f"sqlite:///{made.root / 'gradebook.db'}") as gb:
                nb = gb.find_submission_notebook(a.id, a.id, student)
                points["nbgrader autograde"] = sum(g.score for g in nb.grades)
            started = time.monotonic()
            report = grade_submission(a, folder / made.notebook.name, hidden=True, gpu="cudasim")
            engine_s.append(time.monotonic() - started)
            points["grader grade"] = report.score
            print(f"round {run + 1}: nbgrader {nbgrader_s[-1]:.1f} s, grader grade {engine_s[-1]:.1f} s", flush=True)
        load = os.getloadavg()[0]
        print(f"\n{a.id}, {args.runs} rounds, load average {load:.2f} at the end\n")
        print("| route | s per notebook min / median / max | points (last round) |")
        print("|---|---|---|")
        for name, times in (("nbgrader autograde", nbgrader_s), ("grader grade", engine_s)):
            print(f"| {name} | {min(times):.1f} / {statistics.median(times):.1f} / {max(times):.1f} | {points[name]:g} |")
        print(json.dumps({"nbgrader_s": nbgrader_s, "grader_s": engine_s}))


if __name__ == "__main__":
    main()
