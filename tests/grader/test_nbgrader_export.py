"""`grader export nbgrader`, driven through nbgrader's own API (no mocks). For a1, a2 and a4: the
student version it generates gives nothing away and the source notebook holds the solution's code.
For one of them (`notebook_routes.GRADED`): nbgrader's autograde gives the reference notebook every
correctness point, the stub none, and a known-wrong submission (tests/wrong/; the otter test
plants the other one), line by line, the correctness points `grader grade` gives the same code.

Speed lines are not timed here (`PARLAB_TIMING=off`, inherited by nbgrader's kernel): they are
pending on both routes, and what a pending line looks like in nbgrader is asserted too.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from grader.core.devices import TIMING_ENV
from grader.notebooks.cells import cell, code_cells
from grader.notebooks.nbgrader import export_nbgrader, generate_student_version, nbgrader_api, student_leaks

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

pytest.importorskip("nbgrader.apps", reason="the notebooks extra is not installed: pip install -e '.[notebooks]'")
from nbgrader.api import Gradebook  # noqa: E402


class NbgraderCourse:
    """An nbgrader course folder made by the export, with its own API object."""

    def __init__(self, assignment, root: Path) -> None:
        self.assignment = assignment
        self.export = export_nbgrader(assignment, root)
        self.root = self.export.root
        self.student_notebook, self.leaks = generate_student_version(self.export)
        self.api = nbgrader_api(self.root)

    def autograde(self, student: str, nb: dict) -> dict[str, float]:
        folder = self.root / "submitted" / student / self.assignment.id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{self.assignment.id}.ipynb").write_text(json.dumps(nb))
        done = self.api.autograde(self.assignment.id, student)
        assert done["success"], done["error"]
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            graded = gb.find_submission_notebook(self.assignment.id, self.assignment.id, student)
            return {g.name.replace("-", "."): g.score for g in graded.grades}

    def needs_manual_grade(self, student: str) -> set[str]:
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            graded = gb.find_submission_notebook(self.assignment.id, self.assignment.id, student)
            return {g.name.replace("-", ".") for g in graded.grades if g.needs_manual_grade and g.auto_score is None}

    def graded_cells(self, student: str) -> list[dict]:
        path = self.root / "autograded" / student / self.assignment.id / f"{self.assignment.id}.ipynb"
        return json.loads(path.read_text())["cells"]


@pytest.fixture(scope="module", autouse=True)
def environment():
    """nbgrader runs `alembic` from the venv's bin; its kernel inherits the timing mode."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
        mp.setenv(TIMING_ENV, "off")
        yield


def _source(course: NbgraderCourse) -> dict:
    return json.loads(course.export.notebook.read_text())


def _with_cell(nb: dict, code: str) -> dict:
    """Before the test cells (the first is the grader's setup cell)."""
    return with_student_cell(nb, code, lambda c: c["metadata"].get("nbgrader", {}).get("grade_id") == "grader-setup")


@pytest.mark.parametrize("ident", ASSIGNMENTS)
def test_nbgrader_student_version_gives_nothing_away_and_the_source_holds_the_solutions_code(course, ident, tmp_path):
    a = course.resolve(ident)
    nbc = NbgraderCourse(a, tmp_path / "nbgrader")
    assert not nbc.leaks
    student_text = nbc.student_notebook.read_text()
    assert "BEGIN SOLUTION" not in student_text and "BEGIN HIDDEN TESTS" not in student_text
    assert notebook_holds_the_solution(_source(nbc), a.solution_module)
    assert not notebook_holds_the_solution(json.loads(student_text), a.solution_module)


def test_nbgrader_grades_reference_stub_and_known_wrong_code_as_the_grader_does(course, tmp_path):
    ident = GRADED
    a = course.resolve(ident)
    nbc = NbgraderCourse(a, tmp_path / "nbgrader")
    points = a.spec.lines()
    reference = nbc.autograde("reference", _source(nbc))
    assert correctness(reference) == {str(k): v for k, v in points.items() if k.kind == "correctness"}
    # Not timed here: pending. The cell shows a PENDING error, and the gradebook holds no autograde
    # score for it and flags it "needs manual grade" (nbgrader counts it 0 until a TA enters one).
    speed = {k for k in reference if k.endswith(".performance")}
    assert speed and nbc.needs_manual_grade("reference") == speed
    said = json.dumps(nbc.graded_cells("reference"))
    assert "PENDING: " in said and "This cell's 0 is not a grade" in said

    stub = nbc.autograde("stub", json.loads(nbc.student_notebook.read_text()))
    assert all(v == 0 for v in stub.values()), stub
    assert nbc.needs_manual_grade("stub").isdisjoint(correctness(stub))  # a failed line is a 0, not pending

    for name in wrong_files("nbgrader"):
        got = correctness(nbc.autograde(name.replace("_", "-"), _with_cell(_source(nbc), wrong_code(ident, name))))
        want = grader_correctness(ident, name)
        assert got == pytest.approx(want), (name, got, want)
        assert any(got[k] < points_of(points, k) for k in got), f"{name} lost nothing"


def points_of(points, line: str) -> float:
    return next(v for k, v in points.items() if str(k) == line)


def test_the_source_notebook_hides_the_solution_behind_the_stub_signature(course, tmp_path):
    a = course.resolve("a1_speedup")
    source = _source(NbgraderCourse(a, tmp_path / "nbgrader"))
    fn = next(c for c in source["cells"] if c["metadata"]["nbgrader"]["grade_id"] == "fourier_cpu")
    text = fn["source"]
    assert text.startswith("@njit(parallel=True)\ndef fourier_cpu(x, terms):")
    assert text.index("# BEGIN SOLUTION") < text.index("in prange(") < text.index("# END SOLUTION")
    tests = [c for c in source["cells"] if c["metadata"]["nbgrader"].get("grade")]
    assert [c["metadata"]["nbgrader"]["points"] for c in tests] == list(a.spec.lines().values())
    assert code_cells("import math\nX = 1\n\n\ndef f():\n    pass\n") == ["import math\nX = 1", "def f():\n    pass"]
    # The leak check reads the student notebook's cells: a solution line left in one is found.
    leaky = tmp_path / "leaky.ipynb"
    nb = json.loads(json.dumps(source))
    nb["cells"] = [c for c in nb["cells"] if c["metadata"]["nbgrader"]["grade_id"] != "fourier_cpu"]
    solution_line = "    for i in prange(x.shape[0]):  # elements are independent: no shared writes, no reduction"
    nb["cells"].append(cell("code", solution_line))
    leaky.write_text(json.dumps(nb))
    assert student_leaks(a, leaky)
    shutil.rmtree(tmp_path / "nbgrader")
