"""`grader new` gives an instructor an assignment that validates at once, and never overwrites one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import ROOT

BIN = Path(sys.executable).parent


def _course_copy(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    for part in ("assignments/a1_speedup", "solutions/a1_speedup", "tests/hidden/a1_speedup", "ci"):
        shutil.copytree(ROOT / part, course / part)
    shutil.copyfile(ROOT / "pyproject.toml", course / "pyproject.toml")  # the release takes its dependencies
    return course


def _grader(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "grader"), *args], capture_output=True, text=True, timeout=600)


@pytest.mark.alone
def test_a_new_assignment_validates_at_once(tmp_path, full_timing):
    course = _course_copy(tmp_path)
    made = _grader("new", "a9_poly", "--title", "Polynomials everywhere", "--course", str(course))
    assert made.returncode == 0, made.stderr
    for rel in ("assignments/a9_poly/assignment.toml", "assignments/a9_poly/poly.py", "solutions/a9_poly/poly.py",
                "tests/hidden/a9_poly/test_hidden.py", "tests/wrong/a9_poly/serial_poly_cpu.py",
                "tests/correct/a9_poly/poly_gpu_grid_stride_loop.py"):  # fmt: skip
        assert (course / rel).is_file(), rel
    checked = _grader("validate", "a9_poly", "--course", str(course))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "untouched stub earns zero" in checked.stdout and "FAIL" not in checked.stdout.upper().replace("FAILED", "")


def test_new_refuses_a_bad_id_and_an_existing_assignment(tmp_path):
    course = _course_copy(tmp_path)
    bad = _grader("new", "Scan", "--course", str(course))
    assert bad.returncode == 2 and "is not an assignment id like a6_scan" in bad.stderr
    before = (course / "assignments" / "a1_speedup" / "assignment.toml").read_text()
    again = _grader("new", "a1_speedup", "--course", str(course))
    assert again.returncode == 2 and "exists already" in " ".join(again.stderr.split())
    assert (course / "assignments" / "a1_speedup" / "assignment.toml").read_text() == before


def test_a_course_without_its_pyproject_gets_a_message_not_a_traceback(tmp_path):
    course = _course_copy(tmp_path)
    (course / "pyproject.toml").unlink()
    done = _grader("release", "a1", "--out", str(tmp_path / "out"), "--course", str(course))
    said = " ".join(done.stderr.split())
    assert done.returncode != 0 and "pyproject.toml with [project] dependencies is needed" in said, said
    assert "Traceback" not in done.stderr
