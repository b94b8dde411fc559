"""What the notebook export tests share: the known-wrong files they plant and what `grader grade`
gives the same code, line by line."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from grader.core.course import Course
from grader.notebooks.cells import cell
from grader.run.grade import grade_submission

from ..conftest import ROOT

ASSIGNMENTS = ["a1_speedup", "a2_races", "a4_matmul"]
WRONG = {  # known-wrong files (tests/wrong/) that break a correctness line
    "a1_speedup": ["karp_flatt_ignores_workers", "one_term_short_fourier_cpu"],
    "a2_races": ["racy_histogram_cpu", "missing_syncthreads_dot_gpu"],
    "a4_matmul": ["racy_prange_over_k_cpu", "missing_syncthreads_gpu"],
}


def wrong_files(tool: str, ident: str) -> list[str]:
    """The known-wrong files one tool's test plants: nbgrader the first of each assignment, otter the
    second. The route from a notebook to the grading engine is the same whatever the file, and each
    autograde is a full hidden grading in a fresh kernel, so each file goes through one tool."""
    return WRONG[ident][::2] if tool == "nbgrader" else WRONG[ident][1::2]


def wrong_code(ident: str, name: str) -> str:
    return (ROOT / "tests" / "wrong" / ident / f"{name}.py").read_text()


def grader_correctness(ident: str, name: str) -> dict[str, float]:
    """What `grader grade` gives the reference solution with a known-wrong file appended, per
    correctness line (hidden tests, simulator)."""
    a = Course(ROOT).resolve(ident)
    with tempfile.TemporaryDirectory(prefix="parlab-known-") as tmp:
        (Path(tmp) / a.spec.module_file).write_text(a.solution_module.read_text() + "\n\n" + wrong_code(ident, name))
        report = grade_submission(a, Path(tmp), hidden=True, gpu="cudasim", select=["*.*.correctness"])
    return {str(lr.line): lr.score for lr in report.lines()}


def with_student_cell(nb: dict, code: str, before) -> dict:
    """The notebook with one more code cell (where a student would add it) before the first cell
    for which ``before(cell)`` holds."""
    nb = json.loads(json.dumps(nb))
    at = next(i for i, c in enumerate(nb["cells"]) if before(c))
    nb["cells"].insert(at, {"id": "student-extra", **cell("code", code)})
    return nb


def correctness(lines: dict[str, float]) -> dict[str, float]:
    """The correctness lines (named with dots, as nbgrader's grade ids, or underscores, as otter's questions)."""
    return {k: v for k, v in lines.items() if k.endswith((".correctness", "_correctness"))}
