"""The student side: `grader release`, the CI workflow and its outputs, and the Gradescope autograder."""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader.core.course import Course
from grader.core.devices import TIMING_ENV
from grader.core.results import Status
from grader.formats.github_classroom import classroom_result, write_step_output
from grader.formats.gradescope import gradescope_results
from grader.formats.markdown import summary
from grader.run.grade import grade_submission
from grader.run.leaks import secret_lines
from grader.staff.gradescope_package import build_gradescope_zip
from grader.staff.release import ReleaseError, build_release, find_leaks, release_leaks, sha256

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "schemas" / "gradescope-results.schema.json"
CHEAP = ["amdahl", "fourier.cpu.correctness", "fourier.gpu.correctness"]


@pytest.fixture(scope="module")
def released(a1, tmp_path_factory):
    return build_release(a1, tmp_path_factory.mktemp("release") / "a1-template")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def test_release_is_a_one_commit_repository_with_the_student_files_only(released, a1):
    repo = released.path
    assert git(repo, "rev-list", "--count", "HEAD") == "1"
    assert git(repo, "status", "--porcelain") == ""
    folder = f"assignments/{a1.folder.name}"
    for expected in (
        "README.md", "pyproject.toml", ".github/workflows/classroom.yml", ".gitlab-ci.yml", ".parlab/manifest.json",
        f"{folder}/README.md", f"{folder}/assignment.toml", f"{folder}/speedup.py", f"{folder}/test_public.py",
        "grader/cli.py", "grader/worker/plugin.py",
    ):  # fmt: skip
        assert expected in released.files, expected
    assert not any(part in ("solutions", "hidden") for f in released.files for part in Path(f).parts)
    assert not any("__pycache__" in f for f in released.files)
    assert find_leaks(repo, a1) == []
    # The student's module is theirs to edit; everything else the course owns is hashed.
    manifest = json.loads((repo / ".parlab/manifest.json").read_text())
    assert f"{folder}/speedup.py" not in manifest["protected"]
    assert manifest["protected"][".github/workflows/classroom.yml"] == sha256(repo / ".github/workflows/classroom.yml")
    assert manifest["protected"][f"{folder}/test_public.py"] == sha256(a1.public_tests[0])


def test_release_refuses_to_leak_and_leaves_nothing(a1, tmp_path):
    course = tmp_path / "course"
    for part in ("assignments", "solutions", "tests/hidden", "ci", "grader"):
        shutil.copytree(a1.course_root / part, course / part, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(a1.course_root / name, course / name)
    copy = Course(course).resolve("a1")
    # An instructor's scratch file with one line of a hidden test in it, left in the assignment folder.
    hidden_line = sorted(secret_lines(copy.hidden_tests, [*copy.public_tests, copy.stub_module]), key=len)[-1]
    (copy.folder / "notes.txt").write_text(f"remember: {hidden_line}\n")
    out = tmp_path / "out"
    with pytest.raises(ReleaseError, match="would contain 1 line"):
        build_release(copy, out)
    assert not out.exists()
    # `grader validate` runs the same check, without writing anything.
    assert [where for where, _ in release_leaks(copy)] == [f"assignments/{copy.folder.name}/notes.txt"]


def test_release_will_not_overwrite_without_force(released, a1):
    with pytest.raises(ReleaseError, match="not empty"):
        build_release(a1, released.path)


def test_solution_in_the_release_gets_full_public_points_and_the_stub_none(released, a1, tmp_path, monkeypatch):
    """The released repository grades on its own. Its speed lines are the course's own public tests,
    whose full credit for the solution `test_solution_earns_every_speed_point` proves with full
    timing: here they are not timed (pending), so this test shares the machine."""
    monkeypatch.setenv(TIMING_ENV, "off")
    student = Course(released.path).resolve("a1")
    assert student.hidden_tests == [] and not student.solution_dir.exists()
    shutil.copyfile(a1.solution_dir / "speedup.py", student.folder / "speedup.py")
    report = grade_submission(student, student.folder, hidden=False, gpu="cudasim")
    assert report.tests and all(t.visibility == "public" for t in report.tests)
    assert all(t.status in (Status.passed, Status.deferred) for t in report.tests), [(t.name, t.message) for t in report.tests]
    assert report.score == report.gradable_max > 0
    result = decode_step_output(report, tmp_path / "github_output")
    assert result["status"] == "pass"
    assert sum(t["score"] for t in result["tests"]) == pytest.approx(report.score)
    assert result["max_score"] == pytest.approx(report.max_score)  # pending lines included: the same on any runner

    git(released.path, "checkout", "--", ".")  # back to the stub
    stub = grade_submission(student, student.folder, hidden=False, gpu="cudasim")
    judged = [t for t in stub.tests if t.status is not Status.deferred]
    assert judged and all(t.score == 0 and t.status is Status.failed for t in judged)
    result = decode_step_output(stub, tmp_path / "github_output_stub")
    assert result["status"] == "fail" and sum(t["score"] for t in result["tests"]) == 0
    assert {t["status"] for t in result["tests"]} == {"fail"}


def _find_reporter() -> Path:
    """The GitHub Classroom reporter's released build (not part of this repository): $PARLAB_CLASSROOM_REPORTER,
    else shared/clients/github-classroom-reporter/main.js beside the checkout or a folder above it."""
    if os.environ.get("PARLAB_CLASSROOM_REPORTER"):
        return Path(os.environ["PARLAB_CLASSROOM_REPORTER"])
    for folder in ROOT.parents:
        found = folder / "shared" / "clients" / "github-classroom-reporter" / "main.js"
        if found.is_file():
            return found
    return ROOT.parent / "shared" / "clients" / "github-classroom-reporter" / "main.js"


REPORTER = _find_reporter()
NO_REPORTER = "needs node and the reporter's released main.js (set PARLAB_CLASSROOM_REPORTER to its path)"


def run_reporter(result: dict, tmp_path: Path, recorded: bool = True) -> tuple[float, float, float, float, str]:
    """The real reporter under node, as Actions runs it: (table score, table max, recorded total, recorded max, log)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    files = {name: tmp_path / name for name in ("summary", "output", "state", "env", "path")}
    for f in files.values():
        f.write_text("")
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GITHUB_ACTIONS": "true", "CI": "true", "INPUT_RUNNERS": "parlab",
        "PARLAB_RESULTS": base64.b64encode(json.dumps(result).encode()).decode(),
        "GITHUB_STEP_SUMMARY": str(files["summary"]), "GITHUB_OUTPUT": str(files["output"]),
        "GITHUB_STATE": str(files["state"]), "GITHUB_ENV": str(files["env"]), "GITHUB_PATH": str(files["path"]),
    }  # fmt: skip
    done = subprocess.run(["node", str(REPORTER)], env=env, capture_output=True, text=True, timeout=60)
    log = done.stdout + done.stderr
    table = re.search(r"Total: [^\d]*([\d.]+)[^\d]*([\d.]+)", log)
    notice = re.search(r"::notice title=Autograding report::(\{.*\})", log)
    if not recorded:  # a zero maximum: the reporter records nothing (the run earns no total)
        return 0.0, 0.0, 0.0, 0.0, log
    assert table and notice, log
    total = json.loads(notice.group(1))
    return float(table.group(1)), float(table.group(2)), total["totalPoints"], total["maxPoints"], log


@pytest.mark.skipif(not shutil.which("node") or not REPORTER.is_file(), reason=NO_REPORTER)
def test_the_real_classroom_reporter_agrees_with_our_totals(a1, make_submission, tmp_path):
    lines = ["amdahl", "fourier.cpu.correctness", "fourier.gpu.*"]  # the GPU speed line is pending without a GPU
    wrong_karp_flatt = "def karp_flatt(speedup, workers):\n    return 0.5\n"
    subs = {
        "reference": a1.solution_dir,
        "stub": a1.folder,
        "partial": make_submission(wrong_karp_flatt, name="partial"),
    }
    maxima = set()
    for label, folder in subs.items():
        report = grade_submission(a1, folder, hidden=False, gpu="cudasim", select=lines)
        if label == "partial":  # and a line with partial credit, as a speed line earns it
            judged = [(i, t) for i, t in enumerate(report.tests) if t.status is Status.passed]
            k, big = max(judged, key=lambda pair: pair[1].max_score)
            part = dataclasses.replace(big, score=big.max_score * 0.8, status=Status.partial)
            report = dataclasses.replace(report, tests=(*report.tests[:k], part, *report.tests[k + 1 :]))
        result = classroom_result(report)
        shown, shown_max, total, top, log = run_reporter(result, tmp_path / label)
        assert (shown, shown_max) == (total, top), (
            f"{label}: the reporter's table says {shown}/{shown_max}, its total {total}/{top}"
        )
        assert total == sum(t["score"] for t in result["tests"]) and top == result["max_score"] == report.max_score
        assert total == pytest.approx(sum(math.floor(s + 1e-9) for s in _line_scores(report)))
        maxima.add(top)
        assert ("pending" in log) and (label != "stub" or total == 0)
        assert ("Some tests failed" in log) == (label != "reference"), log[-1500:]
    assert len(maxima) == 1  # the same maximum whatever was judged
    # The same reference on a busy runner: a line it could not judge is pending, the maximum the same.
    reference = grade_submission(a1, a1.solution_dir, hidden=False, gpu="cudasim", select=lines)
    busy = dataclasses.replace(
        reference,
        tests=tuple(
            dataclasses.replace(t, status=Status.deferred, score=0.0) if t.task == "fourier" else t for t in reference.tests
        ),
    )
    shown, shown_max, total, top, log = run_reporter(classroom_result(busy), tmp_path / "busy")
    assert top == maxima.pop() and (shown, shown_max) == (total, top) and "Some tests failed" not in log


def _line_scores(report) -> list[float]:
    return [lr.score for lr in report.lines()]


@pytest.mark.skipif(not shutil.which("node") or not REPORTER.is_file(), reason=NO_REPORTER)
def test_a_grader_that_dies_still_reaches_the_reporter(released, tmp_path):
    """The workflow's fallback step hands the reporter an error result it can read and show."""
    workflow = (released.path / ".github" / "workflows" / "classroom.yml").read_text()
    assert "steps.parlab.outputs.result || steps.fallback.outputs.result" in workflow
    step = re.search(r"id: fallback\n.*?run: \|\n((?: {10}[^\n]*\n)+)", workflow, re.S)
    assert step, "no fallback step in the workflow"
    output = tmp_path / "github_output"
    output.write_text("")
    done = subprocess.run(
        ["bash", "-c", textwrap.dedent(step.group(1))], env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(output)}
    )
    assert done.returncode == 0
    (line,) = output.read_text().splitlines()
    result = json.loads(base64.b64decode(line.removeprefix("result=")))
    shown, shown_max, total, top, log = run_reporter(result, tmp_path / "reporter", recorded=False)
    assert "Error: The grader step ended before it wrote any result" in log and "Some tests errored" in log
    assert "Unexpected end of JSON input" not in log


def decode_step_output(report, path: Path) -> dict:
    """What the reporter action does with `result=<base64>`."""
    write_step_output(report, path)
    (line,) = path.read_text().splitlines()
    key, _, value = line.partition("=")
    assert key == "result"
    decoded = json.loads(base64.b64decode(value, validate=True))
    assert decoded == classroom_result(report)
    assert decoded["version"] == 1 and decoded["status"] in ("pass", "fail", "error")
    for t in decoded["tests"]:
        assert {"name", "status", "score", "message"} <= set(t) and t["status"] in ("pass", "fail", "error")
    return decoded


def test_workflow_passes_actionlint_and_wires_the_reporter(released):
    workflow = released.path / ".github/workflows/classroom.yml"
    actionlint = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    assert actionlint, "actionlint is part of the dev extras: pip install -e '.[dev]'"
    done = subprocess.run([actionlint, "-no-color", str(workflow)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    text = workflow.read_text()
    assert "grader test a1" in text and '--classroom "$GITHUB_OUTPUT"' in text and '--summary "$GITHUB_STEP_SUMMARY"' in text
    results = 'PARLAB_RESULTS: "${{ steps.parlab.outputs.result || steps.fallback.outputs.result }}"'
    assert results in text and "runners: parlab" in text
    assert "secrets." not in text, "the student's workflow needs no instructor secret"


def test_gitlab_ci_passes_gitlabs_schema_and_reports_junit(released):
    """The same checks for a course hosting student repositories on GitLab, validated against the
    CI schema GitLab publishes (vendored by check-jsonschema)."""
    pipeline = released.path / ".gitlab-ci.yml"
    check = shutil.which("check-jsonschema", path=str(BIN)) or shutil.which("check-jsonschema")
    assert check, "check-jsonschema is part of the dev extras: pip install -e '.[dev]'"
    done = subprocess.run([check, "--builtin-schema", "vendor.gitlab-ci", str(pipeline)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    text = pipeline.read_text()
    assert "grader test a1" in text and "--junit parlab-junit.xml" in text and "junit: parlab-junit.xml" in text
    assert "$parlab" not in text and "$CI_PROJECT_DIR" in text  # template filled, GitLab's own variables kept
    broken = released.path / "broken.yml"
    broken.write_text(text.replace("when: always", "when: sometimes"))  # valid YAML, not a valid pipeline
    bad = subprocess.run([check, "--builtin-schema", "vendor.gitlab-ci", str(broken)], capture_output=True, text=True)
    assert bad.returncode != 0  # the check can fail


def test_junit_report_is_the_student_view_with_pending_as_skipped(a1, make_submission, tmp_path):
    import xml.etree.ElementTree as ET

    from grader.formats.junit import junit_xml

    sub = make_submission("def karp_flatt(speedup, workers):\n    return 0.5\n")
    report = grade_submission(a1, sub, hidden=True, gpu="none", select=["amdahl", "fourier.gpu"])
    root = ET.fromstring(junit_xml(report))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(report.tests) and int(suite.get("tests")) == len(cases)
    failed = [c for c in cases if c.find("failure") is not None]
    pending = [c for c in cases if c.find("skipped") is not None]
    assert failed and int(suite.get("failures")) == len(failed)
    assert pending and all(c.find("skipped").get("type") == "pending" for c in pending)
    assert all(c.find("skipped").get("message").startswith("PENDING") for c in pending)
    hidden_names = {t.name for t in report.tests if t.visibility == "hidden"}
    assert hidden_names and not any(name in c.get("name") for c in cases for name in hidden_names)


def test_markdown_summary_names_what_to_fix(a1, make_submission):
    wrong = make_submission("def karp_flatt(s, p):\n    return 0.5\n")
    report = grade_submission(a1, wrong, hidden=False, gpu="cudasim", select=CHEAP)
    text = summary(report)
    assert text.startswith("## a1_speedup") and "| amdahl | — | correctness | ❌ failed | 0.0/1 |" in text
    assert "### What to fix" in text and "test_amdahl_examples" in text


def test_protected_file_changes_in_a_released_repo_are_flagged(released, a1, tmp_path):
    repo = tmp_path / "student"
    shutil.copytree(released.path, repo)
    folder = repo / "assignments" / a1.folder.name
    shutil.copyfile(a1.solution_dir / "speedup.py", folder / "speedup.py")  # editing the module is fine
    workflow = repo / ".github/workflows/classroom.yml"
    workflow.write_text(workflow.read_text().replace("grader test a1", "echo all passed #"))
    (folder / "test_public.py").unlink()
    report = grade_submission(a1, folder, hidden=True, gpu="cudasim", select=["amdahl"])
    assert set(report.flags) >= {
        "protected file .github/workflows/classroom.yml was modified (grading used the course's copy)",
        f"protected file assignments/{a1.folder.name}/test_public.py was deleted",
    }
    assert not any("speedup.py" in f for f in report.flags)
    assert report.score == report.max_score > 0  # graded with the course's tests, not the student's


@pytest.mark.alone
def test_gradescope_autograder_runs_locally_and_writes_valid_results(a1, tmp_path):
    zipped = tmp_path / "autograder.zip"
    names = build_gradescope_zip(a1, zipped)
    assert {"setup.sh", "run_autograder"} <= set(names)
    assert any(n.startswith("course/tests/hidden/") for n in names) and "course/pyproject.toml" in names
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zipped) as z:
        z.extractall(root / "source")
        assert z.getinfo("run_autograder").external_attr >> 16 & 0o111
    assert subprocess.run(["bash", "-n", str(root / "source" / "setup.sh")]).returncode == 0
    # Gradescope's layout: the student uploaded their whole repository.
    (root / "submission" / "repo" / "assignments" / a1.folder.name).mkdir(parents=True)
    shutil.copyfile(a1.solution_dir / "speedup.py", root / "submission" / "repo" / "assignments" / a1.folder.name / "speedup.py")
    env = {**os.environ, "PARLAB_AUTOGRADER_ROOT": str(root), "PARLAB_GRADER": str(BIN / "grader"), "PARLAB_GPU": "cudasim"}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, json.loads(SCHEMA.read_text()))
    tests = results["tests"]
    assert results["score"] == pytest.approx(sum(t["score"] for t in tests))
    hidden = [t for t in tests if t["visibility"] == "after_published"]
    assert hidden and all(t["name"].startswith("hidden ") for t in hidden)
    assert {t["visibility"] for t in tests} == {"visible", "after_published"}
    # The reference: full marks of everything judged here; what could not be judged is pending, 0 of 0.
    assert results["output_format"] == "md"
    # (Speed lines are timed with few rounds in these tests: a judged one must earn points, not
    # necessarily all of them; every correctness line must be full.)
    short = [
        (t["name"], t["score"], t["max_score"], t["output"][:200]) for t in tests if "pending" not in t["tags"]
        and not (t["score"] == t["max_score"] or ("performance" in t["tags"] and t["score"] > 0))
    ]  # fmt: skip
    assert not short, short
    pending = [t for t in tests if "pending" in t["tags"]]
    assert pending and all(t["max_score"] == 0 == t["score"] and "status" not in t for t in pending)
    assert all(t["output"].startswith("pending, worth") for t in pending)
    assert results["score"] == sum(t["max_score"] for t in tests) > 0
    assert results["stdout_visibility"] == "hidden"
    assert "leaderboard" not in results or all(e["order"] == "desc" for e in results["leaderboard"])


def test_gradescope_results_of_a_missing_submission_still_validate(a1, tmp_path):
    report = grade_submission(a1, tmp_path / "nothing", hidden=True, gpu="cudasim", select=["amdahl"])
    results = gradescope_results(report)
    jsonschema.validate(results, json.loads(SCHEMA.read_text()))
    assert results["score"] == 0 and results["tests"]


def test_the_student_template_advertises_only_the_students_commands(released):
    done = subprocess.run([str(BIN / "grader"), "--help"], capture_output=True, text=True, timeout=60, cwd=released.path)
    commands = done.stdout.split("Commands:")[1]
    assert "test" in commands and "list" in commands
    assert not any(staff in commands for staff in ("grade-all", "release", "collect", "export", "override"))
    staff = subprocess.run([str(BIN / "grader"), "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert "grade-all" in staff.stdout and "release" in staff.stdout  # the course repository shows them
