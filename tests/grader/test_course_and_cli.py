"""Finding assignments by short ID, and the CLI's behaviour for users: output, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course import Course, CourseError

ROOT = Path(__file__).resolve().parents[2]


def test_resolve_by_prefix_and_full_name(course):
    assert course.resolve("a1").id == "a1_speedup"
    assert course.resolve("a1_speedup").folder.name == "a1_speedup"


def test_unknown_and_ambiguous_ids(tmp_path):
    for name in ("a1_one", "a1_two"):
        d = tmp_path / "assignments" / name
        d.mkdir(parents=True)
        (d / "assignment.toml").write_text("")
    c = Course(tmp_path)
    with pytest.raises(CourseError, match="ambiguous: a1_one, a1_two"):
        c.resolve("a1")
    with pytest.raises(CourseError, match="no assignment 'zz'.*known: a1_one, a1_two"):
        c.resolve("zz")


def grader(*args, cwd=ROOT):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLAB")}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def test_list_shows_assignments_and_points():
    out = grader("list")
    assert out.returncode == 0, out.stderr
    assert "a1_speedup" in out.stdout and "Speedup and Amdahl's law" in out.stdout and "14" in out.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("test", "zz"), "no assignment 'zz'"),
        (("grade", "a1"), "Missing option '--submission'"),
        (("test", "a1", "--gpu", "tpu"), "unknown GPU backend 'tpu'"),
    ],
)
def test_user_mistakes_exit_2_without_traceback(args, message):
    out = grader(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_outside_a_course_says_what_to_do(tmp_path):
    out = grader("list", "--course", str(tmp_path))
    assert out.returncode == 2 and "not a course checkout" in out.stderr
    out = grader("list", cwd=tmp_path)
    assert out.returncode == 0, "outside a checkout, the installed course is found"


def test_grade_writes_json_and_exits_0_for_a_zero_score(tmp_path):
    path = tmp_path / "r.json"
    out = grader("grade", "a1", "--submission", str(tmp_path / "missing"), "--json", str(path), "-s", "amdahl")
    assert out.returncode == 0, out.stderr
    data = json.loads(path.read_text())
    assert data["score"] == 0 and data["max_score"] == 3 and data["assignment"] == "a1_speedup"
    assert {t["status"] for t in data["tests"]} == {"error"}
    assert "does not exist" in out.stdout
