"""`grader export otter`, driven through the real `otter assign` and `otter run` (no mocks). For a1,
a2 and a4: the student notebook gives nothing away, the reference gets every correctness point, the
stub none, and a known-wrong submission (tests/wrong/; the nbgrader test plants the other one) gets,
line by line, the correctness points `grader grade` gives the same code (`notebook_routes.py`).

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

from .notebook_routes import ASSIGNMENTS, correctness, grader_correctness, with_student_cell, wrong_code, wrong_files

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


@pytest.mark.parametrize("ident", ASSIGNMENTS)
def test_otter_assign_and_otter_run_grade_as_the_grader_does(course, ident, tmp_path):
    a = course.resolve(ident)
    made = export_otter(a, tmp_path / "otter")
    assigned = subprocess.run(
        [str(BIN / "otter"), "assign", "--no-run-tests", made.notebook.name, "dist"],
        cwd=made.root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert assigned.returncode == 0, assigned.stderr[-3000:]
    zipped = next((made.root / "dist" / "autograder").glob("*.zip"))
    student = made.root / "dist" / "student" / made.notebook.name
    student_text = student.read_text()
    assert "BEGIN SOLUTION" not in student_text and "hidden: true" not in student_text
    assert not student_leaks(a, student)

    points = {str(k).replace(".", "_"): v for k, v in a.spec.lines().items()}
    master = json.loads((made.root / "dist" / "autograder" / made.notebook.name).read_text())
    reference = _otter_run(zipped, master, tmp_path / "reference")
    assert correctness(reference) == correctness(points)
    assert all(reference[k] == 0 for k in points if "performance" in k)  # not timed here: pending, never full
    stub = _otter_run(zipped, json.loads(student_text), tmp_path / "stub")
    assert all(v == 0 for v in stub.values()), stub

    for name in wrong_files("otter", ident):
        got = correctness(_otter_run(zipped, _with_code_cell(master, wrong_code(ident, name)), tmp_path / name))
        want = {k.replace(".", "_"): v for k, v in grader_correctness(ident, name).items()}
        assert got == pytest.approx(want), (name, got, want)
        assert any(got[k] < points[k] for k in got), f"{name} lost nothing"
