"""Finding assignments by short ID, and the CLI's behaviour for users: output, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.course import Course, CourseError, SubmissionLayoutError, find_module_folder

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


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


def test_the_module_is_found_where_students_hand_it_in(a1, tmp_path):
    module = f"{a1.spec.module}.py"

    def put(*parts: str) -> Path:
        path = tmp_path.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# code\n")
        return path.parent

    assert find_module_folder(tmp_path / "missing", a1) == tmp_path / "missing"
    assert find_module_folder(tmp_path, a1) == tmp_path  # nothing there: each test reports it missing
    only = put("upload", "work", module)
    assert find_module_folder(tmp_path / "upload", a1) == only
    released = put("repo", "assignments", a1.folder.name, module)
    put("repo", "z", module)  # a stray copy does not win over the template's place
    assert find_module_folder(tmp_path / "repo", a1) == released
    put("nested", "my-repo", "assignments", a1.folder.name, module)
    put("nested", "my-repo", "old", module)
    assert find_module_folder(tmp_path / "nested", a1).parts[-3:] == ("my-repo", "assignments", a1.folder.name)
    top = put("both", module)
    put("both", "z", module)
    assert find_module_folder(tmp_path / "both", a1) == top  # the top-level file first
    put("two", "a", module)
    put("two", "b", module)
    with pytest.raises(SubmissionLayoutError, match=r"2 copies of speedup.py \(a/speedup.py, b/speedup.py\)"):
        find_module_folder(tmp_path / "two", a1)


def test_grade_finds_the_module_in_a_repository_root(a1, tmp_path):
    repo = tmp_path / "student-repo"
    (repo / "assignments" / a1.folder.name).mkdir(parents=True)
    shutil.copyfile(a1.solution_dir / "speedup.py", repo / "assignments" / a1.folder.name / "speedup.py")
    out = tmp_path / "r.json"
    done = subprocess.run(
        [str(BIN / "grader"), "grade", "a1", "--submission", str(repo), "--select", "amdahl", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["score"] == report["max_score"] == 3
    assert report["submission"].endswith(f"assignments/{a1.folder.name}")
    (repo / "assignments" / a1.folder.name / "speedup.py").rename(repo / "assignments" / a1.folder.name / "speedup2.py")
    missing = subprocess.run(
        [str(BIN / "grader"), "grade", "a1", "--submission", str(repo), "--select", "amdahl"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    said = " ".join(missing.stdout.split())
    assert missing.returncode == 0 and "speedup.py is missing" in said and "speedup2.py" in said, said


@pytest.mark.parametrize("selector", ["nosuchtask", "dot.cpux", "dot.cpu.correctness.extra"])
def test_a_selector_that_matches_no_rubric_line_is_a_usage_error(selector):
    done = subprocess.run(
        [str(BIN / "grader"), "test", "a2", "-s", selector, "--submission", str(ROOT / "solutions" / "a2_races")],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    said = " ".join(done.stderr.split())
    assert done.returncode == 2 and f"'{selector}' selects no rubric line of a2_races" in said, said
    assert "dot.cpu.performance" in said  # the valid lines are listed


def test_help_keeps_each_example_on_its_own_line():
    done = subprocess.run([str(BIN / "grader"), "test", "--help"], capture_output=True, text=True, timeout=60)
    lines = done.stdout.splitlines()
    assert any(line.strip() == "grader test a1 -s fourier.cpu -v" for line in lines), done.stdout


def test_a_test_marked_with_a_task_the_spec_lacks_says_so(tmp_path):
    course = tmp_path / "course"
    for part in ("assignments/a1_speedup", "solutions/a1_speedup", "tests/hidden/a1_speedup"):
        shutil.copytree(ROOT / part, course / part)
    with open(course / "assignments" / "a1_speedup" / "test_public.py", "a") as f:
        f.write('\n\n@grade(task="nope", part="cpu", points=1)\ndef test_misfiled(impl):\n    assert True\n')
    done = subprocess.run(
        [str(BIN / "grader"), "grade", "a1", "--submission", str(course / "solutions" / "a1_speedup"), "--course", str(course)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    said = " ".join(done.stderr.split())
    assert done.returncode == 3 and "grade(task='nope', part='cpu') is not in the spec" in said, said
    assert "INTERNALERROR" not in said and "known: amdahl.python, fourier.cpu, fourier.gpu)" in said


def test_a_hidden_test_file_that_does_not_import_stops_grading_with_its_error(tmp_path):
    """Its tests would otherwise vanish from every report and the rest read 'never reported a result'."""
    course = tmp_path / "course"
    for part in ("assignments/a1_speedup", "solutions/a1_speedup", "tests/hidden/a1_speedup"):
        shutil.copytree(ROOT / part, course / part)
    hidden = course / "tests" / "hidden" / "a1_speedup" / "test_hidden.py"
    hidden.write_text("from grader.testkit import no_such_helper\n" + hidden.read_text())
    done = subprocess.run(
        [str(BIN / "grader"), "grade", "a1", "--submission", str(course / "solutions" / "a1_speedup"), "--course", str(course)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    said = " ".join(done.stderr.split())
    assert done.returncode == 3, (done.returncode, said, done.stdout[-2000:])
    assert "a test file could not be collected" in said and "test_hidden.py" in said, said
    assert "no_such_helper" in said, said


def test_the_ta_is_told_when_the_module_is_the_stub_or_does_not_parse(a1, tmp_path):
    from grader.run.grade import grade_submission

    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copyfile(a1.stub_module, sub / "speedup.py")
    stub = grade_submission(a1, sub, hidden=False, gpu="cudasim", select=["amdahl"])
    assert "speedup.py is identical to the released stub: nothing was handed in" in stub.flags
    (sub / "speedup.py").write_text("def amdahl_speedup(:\n")
    broken = grade_submission(a1, sub, hidden=False, gpu="cudasim", select=["amdahl"])
    assert any(f.startswith("speedup.py has a syntax error at line 1") for f in broken.flags)
    assert not broken.for_students().flags  # for the TA, not the student
