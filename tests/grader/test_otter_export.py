"""`grader export otter`, driven through the real `otter assign` and `otter run` (no mocks): the
student notebook gives nothing away, the reference gets every correctness point, the stub none,
and a planted bug loses what `grader grade` takes.

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
from grader.notebooks.cells import cell
from grader.notebooks.nbgrader import student_leaks
from grader.notebooks.otter import export_otter
from grader.run.grade import grade_submission

pytest.importorskip("otter", reason="the notebooks extra is not installed: pip install -e '.[notebooks]'")

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module", autouse=True)
def environment():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", str(BIN) + os.pathsep + os.environ["PATH"])
        mp.setenv(TIMING_ENV, "off")
        yield


def _otter_run(zipped: Path, nb: dict, folder: Path) -> dict[str, float]:
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


def test_otter_assign_and_otter_run_grade_as_the_grader_does(course, tmp_path):
    a = course.resolve("a1_speedup")
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
    assert {k: v for k, v in reference.items() if "correctness" in k} == {k: v for k, v in points.items() if "correctness" in k}
    assert all(reference[k] == 0 for k in points if "performance" in k)  # not timed here: pending, never full
    stub = _otter_run(zipped, json.loads(student_text), tmp_path / "stub")
    assert all(v == 0 for v in stub.values()), stub

    bug = "\n\ndef karp_flatt(speedup, workers):\n    return 1.0 / speedup\n"  # ignores the worker count
    wrong = _with_code_cell(master, bug)
    got = _otter_run(zipped, wrong, tmp_path / "wrong")
    folder = tmp_path / "wrong-module"
    folder.mkdir()
    (folder / a.spec.module_file).write_text(a.solution_module.read_text() + bug)
    report = grade_submission(a, folder, hidden=True, gpu="cudasim", select=["*.*.correctness"])
    want = {str(lr.line).replace(".", "_"): lr.score for lr in report.lines()}
    assert {k: v for k, v in got.items() if "correctness" in k} == pytest.approx(want)
    assert got["amdahl_python_correctness"] < points["amdahl_python_correctness"]


def _with_code_cell(nb: dict, code: str) -> dict:
    """The notebook with a code cell appended after its last solution cell (where a student would add it)."""
    nb = json.loads(json.dumps(nb))
    last = max(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and "def fourier_gpu" in "".join(c["source"]))
    nb["cells"].insert(last + 1, {"id": "student-extra", **cell("code", code)})
    return nb
