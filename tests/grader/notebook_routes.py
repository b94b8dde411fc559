"""What the notebook export tests share: the known-wrong files they plant and what `grader grade`
gives the same code, line by line.

The expectation is graded once per test session and cached on disk (keyed by the code and the
test-suite version, written atomically), so the nbgrader and the otter tests can run in two
xdist workers and still grade each known-wrong file once.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from grader.classroom.grade_all import suite_version
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


def wrong_code(ident: str, name: str) -> str:
    return (ROOT / "tests" / "wrong" / ident / f"{name}.py").read_text()


def grader_correctness(ident: str, name: str, cache: Path) -> dict[str, float]:
    """What `grader grade` gives the reference solution with a known-wrong file appended, per
    correctness line (hidden tests, simulator)."""
    a = Course(ROOT).resolve(ident)
    source = a.solution_module.read_text() + "\n\n" + wrong_code(ident, name)
    key = hashlib.sha256(f"{suite_version(a)}\0{source}".encode()).hexdigest()[:24]
    path = cache / f"{ident}-{name}-{key}.json"
    if path.is_file():
        return json.loads(path.read_text())
    with tempfile.TemporaryDirectory(prefix="parlab-known-") as tmp:
        (Path(tmp) / a.spec.module_file).write_text(source)
        report = grade_submission(a, Path(tmp), hidden=True, gpu="cudasim", select=["*.*.correctness"])
    points = {str(lr.line): lr.score for lr in report.lines()}
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=cache, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(points, f)
    os.replace(tmp_name, path)
    return points


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
