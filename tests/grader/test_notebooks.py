"""A notebook handed in instead of the module is graded by the same engine: same points per line,
same pending lines; what a notebook runs only to show results is left out and said so; a cell or
a whole notebook that does not parse costs only what it defines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.course import COURSE_ENV, find_module_folder
from grader.core.devices import TIMING_ENV
from grader.notebooks.cells import cell, code_cells, notebook, write_notebook
from grader.run.grade import grade_submission
from grader.run.notebook import notebook_to_module

from ..conftest import ROOT

SELECT = ["*.*.correctness", "*.gpu.performance"]  # every correctness line, and speed lines that stay pending
DEMOS = [
    "%timeit karp_flatt(1.5, 2)",
    "while True:  # a demo that never ends: not run when grading\n    pass",
    "print(amdahl_speedup(0.9, 4))",
]


def _notebook_of(module: Path, path: Path, extra: list[str] = (), replace: dict[str, str] | None = None) -> Path:
    cells = [cell("markdown", "# Speedup and Amdahl's law\nMy work.")]
    for text in code_cells(module.read_text()):
        for old, new in (replace or {}).items():
            text = text.replace(old, new)
        cells.append(cell("code", text))
    cells += [cell("code", text) for text in extra]
    return write_notebook(path, notebook(cells))


def _lines(report) -> dict[str, tuple[float, str]]:
    return {str(lr.line): (lr.score, lr.status) for lr in report.lines()}


@pytest.fixture(scope="module")
def module_report(a1):
    return grade_submission(a1, a1.solution_dir, hidden=True, gpu="cudasim", select=SELECT)


def test_the_reference_as_a_notebook_scores_as_the_reference_module(a1, module_report, tmp_path):
    nb = _notebook_of(a1.solution_module, tmp_path / "speedup.ipynb", DEMOS)
    report = grade_submission(a1, nb, hidden=True, gpu="cudasim", select=SELECT)
    assert _lines(report) == _lines(module_report)
    assert report.score == module_report.score == module_report.gradable_max > 0
    assert report.deferred_points == module_report.deferred_points > 0  # GPU speed: pending, never zero
    said = "\n".join(report.flags)
    assert "graded the code cells of speedup.ipynb" in said
    assert "%timeit karp_flatt" in said and "while True:" in said and "print(amdahl_speedup" in said


def test_a_cell_that_does_not_parse_costs_only_what_it_defines(a1, tmp_path):
    nb = _notebook_of(
        a1.solution_module,
        tmp_path / "speedup.ipynb",
        replace={"def karp_flatt(speedup: float, workers: int) -> float:": "def karp_flatt(speedup, workers) -> float"},
    )
    report = grade_submission(a1, nb, hidden=True, gpu="cudasim", select=["*.*.correctness"])
    lines = _lines(report)
    assert lines["fourier.cpu.correctness"][0] == 3 and lines["fourier.gpu.correctness"][0] == 3
    assert lines["amdahl.python.correctness"][0] < 3  # karp_flatt's tests find no karp_flatt
    assert any("does not parse (line 1" in f for f in report.flags), report.flags


def test_a_file_that_is_not_a_notebook_is_an_error_and_grading_goes_on(a1, tmp_path):
    nb = tmp_path / "speedup.ipynb"
    nb.write_text('{"cells": [ this is not JSON')
    report = grade_submission(a1, nb, hidden=False, gpu="cudasim", select=["amdahl"])
    assert report.score == 0 and report.tests
    assert any("not a Jupyter notebook (not valid JSON" in e for e in report.errors), report.errors


def test_the_notebook_is_found_where_the_template_puts_the_module(a1, tmp_path):
    repo = tmp_path / "repo"
    _notebook_of(a1.solution_module, repo / "assignments" / a1.folder.name / "speedup.ipynb")
    assert find_module_folder(repo, a1) == repo / "assignments" / a1.folder.name


def test_magics_become_comments_and_docstrings_are_not_reported(tmp_path):
    nb = write_notebook(
        tmp_path / "m.ipynb",
        notebook([cell("code", '"""notes"""\nimport math\n!pip install numba\nX = 1'), cell("code", "%%time\nY = 2")]),
    )
    converted = notebook_to_module(nb)
    assert "import math" in converted.source and "X = 1" in converted.source and "Y = 2" not in converted.source
    assert converted.notes == [
        "cell 1: IPython magic or shell line left out (!pip install numba)",
        "cell 2: IPython magic or shell line left out (%%time)",
    ]
    compile(converted.source, "m.py", "exec")


def test_grader_cli_grades_a_notebook(a1, tmp_path):
    nb = _notebook_of(a1.solution_module, tmp_path / "speedup.ipynb", DEMOS)
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "grader"),
            "grade",
            "a1",
            "--submission",
            str(nb),
            "-s",
            "amdahl",
            "--course",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "3.0/3" in done.stdout and "graded the code cells of speedup.ipynb" in done.stdout


def test_an_autograded_notebooks_public_checks_read_its_hidden_grading(a1, tmp_path, monkeypatch, capsys):
    """Otter runs each question's public test case next to its hidden ones: once the hidden grading
    ran in the kernel, a public check reads its public records instead of grading again."""
    from grader.notebooks import check

    _notebook_of(a1.solution_module, tmp_path / "speedup.ipynb")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(COURSE_ENV, str(ROOT))
    monkeypatch.setenv(TIMING_ENV, "off")
    monkeypatch.setattr(check, "_reports", {})
    monkeypatch.setattr(check, "_autograded", {})
    graded = []
    real = check.grade_submission
    monkeypatch.setattr(check, "grade_submission", lambda *args, **kw: graded.append(kw) or real(*args, **kw))

    assert check.points("a1_speedup", "amdahl.python.correctness", hidden=True, from_file=True) == 3
    capsys.readouterr()
    public = check.check("a1_speedup", "fourier.cpu.correctness")
    assert [kw["hidden"] for kw in graded] == [True]  # one grading: the hidden one
    shown = capsys.readouterr().out
    assert 0 < public < 3 and "ok" in shown and "hidden" not in shown  # the public tests of the line, and only those


@pytest.mark.parametrize("tool", ["nbgrader", "otter"])
def test_an_export_to_an_unwritable_folder_is_an_error_not_a_traceback(tool, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    grader = str(Path(sys.executable).parent / "grader")
    done = subprocess.run(
        [grader, "export", tool, "a1", "--out", str(blocker / "out"), "--course", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr + done.stdout
    assert f"cannot write the {tool} folder" in " ".join((done.stderr + done.stdout).split())
