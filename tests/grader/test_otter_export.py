"""`grader export otter`, driven through the real `otter assign` and `otter run` (no mocks). For a1,
a2 and a4: `otter assign` accepts the export, the student notebook gives nothing away, and the
notebook otter grades with holds the solution's code. For one of them (`notebook_routes.GRADED`):
`otter run` gives the reference every correctness point, the stub none, and a known-wrong
submission (tests/wrong/; the nbgrader test plants the other one), line by line, the correctness
points `grader grade` gives the same code.

Speed lines are not timed here (`PARLAB_TIMING=off`, inherited by otter's kernel): pending, never full.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.devices import TIMING_ENV
from grader.notebooks.nbgrader import student_leaks
from grader.notebooks.otter import export_otter

from .notebook_routes import (
    ASSIGNMENTS,
    GRADED,
    correctness,
    grader_correctness,
    notebook_holds_the_solution,
    with_student_cell,
    wrong_code,
    wrong_files,
)

pytest.importorskip("otter", reason="the notebooks extra is not installed: pip install -e '.[notebooks]'")

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module", autouse=True)
def environment():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", str(BIN) + os.pathsep + os.environ["PATH"])
        mp.setenv(TIMING_ENV, "off")
        yield


def _otter_run(zipped: Path, nb: dict, folder: Path) -> dict[str, float]:
    """`otter run` on one notebook: the points of each question (a rubric line, dots as underscores)."""
    folder.mkdir()
    (folder / "submission.ipynb").write_text(json.dumps(nb))
    done = subprocess.run(
        [str(BIN / "otter"), "run", "-a", str(zipped), "submission.ipynb", "-o", "."],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads((folder / "results.json").read_text())
    return {t["name"]: t["score"] for t in results["tests"] if t["name"] != "Public Tests"}


def _with_code_cell(nb: dict, code: str) -> dict:
    """Before the first question (its markdown, then its `grader.check` cell)."""
    return with_student_cell(nb, code, lambda c: c["cell_type"] == "markdown" and "".join(c["source"]).startswith("**"))


def _assigned(a, root: Path) -> tuple[Path, dict, Path]:
    """`grader export otter`, then `otter assign`: the autograder zip, the master notebook otter
    grades with, and the student notebook."""
    made = export_otter(a, root)
    assigned = subprocess.run(
        [str(BIN / "otter"), "assign", "--no-run-tests", made.notebook.name, "dist"],
        cwd=made.root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert assigned.returncode == 0, assigned.stderr[-3000:]
    zipped = next((made.root / "dist" / "autograder").glob("*.zip"))
    master = json.loads((made.root / "dist" / "autograder" / made.notebook.name).read_text())
    return zipped, master, made.root / "dist" / "student" / made.notebook.name


@pytest.mark.parametrize("ident", ASSIGNMENTS)
def test_otter_assign_gives_students_nothing_and_grades_the_solutions_code(course, ident, tmp_path):
    a = course.resolve(ident)
    _, master, student = _assigned(a, tmp_path / "otter")
    student_text = student.read_text()
    assert "BEGIN SOLUTION" not in student_text and "hidden: true" not in student_text
    assert not student_leaks(a, student)
    assert notebook_holds_the_solution(master, a.solution_module)
    assert not notebook_holds_the_solution(json.loads(student_text), a.solution_module)


def test_otter_run_grades_as_the_grader_does(course, tmp_path):
    a = course.resolve(GRADED)
    zipped, master, student = _assigned(a, tmp_path / "otter")
    points = {str(k).replace(".", "_"): v for k, v in a.spec.lines().items()}
    reference = _otter_run(zipped, master, tmp_path / "reference")
    assert correctness(reference) == correctness(points)
    assert all(reference[k] == 0 for k in points if "performance" in k)  # not timed here: pending, never full
    stub = _otter_run(zipped, json.loads(student.read_text()), tmp_path / "stub")
    assert all(v == 0 for v in stub.values()), stub

    for name in wrong_files("otter"):
        got = correctness(_otter_run(zipped, _with_code_cell(master, wrong_code(GRADED, name)), tmp_path / name))
        want = {k.replace(".", "_"): v for k, v in grader_correctness(GRADED, name).items()}
        assert got == pytest.approx(want), (name, got, want)
        assert any(got[k] < points[k] for k in got), f"{name} lost nothing"
