"""TA batch grading: roster and deadline checks, collecting from git, resumable grade-all, gradebook outputs."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.classroom.collect import BatchError, Student, Submission, collect, parse_deadline, read_roster
from grader.classroom.grade_all import grade_all, nothing_to_time
from grader.classroom.policies import LatePolicy, LmsPolicy, PolicyError, load_late_policy, load_lms_policy
from grader.classroom.records import StudentResult, load_results
from grader.core.devices import TIMING_ENV
from grader.core.results import GradeReport, Machine, Status, TestRecord
from grader.formats.gradebook import gradebook_csv, lms_csv, write_gradebook
from grader.formats.html_report import class_report

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
_spec = importlib.util.spec_from_file_location("synthetic_class", ROOT / "benchmarks" / "synthetic_class.py")
synthetic_class = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetic_class)


@pytest.fixture(scope="module", autouse=True)
def speed_lines_not_timed():
    """These tests are about batch bookkeeping (phases, caches, kills, overrides, exports): speed
    lines stay pending without being timed (`PARLAB_TIMING=off`), as they would mostly end up on a
    machine busy with the other tests. Speed verdicts are tested where they are the point."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(TIMING_ENV, "off")
        yield


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, error",
    [
        ("student_id,name\nx,X\n", "lacks column(s) ['repo']"),
        ("student_id,name,repo\na,A,/r\na,B,/r\n", "appears twice"),
        ("student_id,name,repo\n../evil,A,/r\n", "must be letters"),
        ("student_id,name,repo,extension_days\na,A,/r,soon\n", "is not a number"),
        ("student_id,name,repo\n", "has no students"),
        ("student_id,name,repo\na,A,\n", "roster.csv:2: student 'a' has no repo"),
    ],
)
def test_bad_rosters_are_refused_with_the_line(tmp_path, text, error):
    with pytest.raises(BatchError, match=re.escape(error)):
        read_roster(write(tmp_path / "roster.csv", text))


def test_deadlines_need_a_time_zone():
    assert parse_deadline("2026-12-01T23:59:00Z") == datetime(2026, 12, 1, 23, 59, tzinfo=timezone.utc)
    with pytest.raises(BatchError, match="needs a time zone"):
        parse_deadline("2026-12-01T23:59:00")
    with pytest.raises(BatchError, match="not ISO 8601"):
        parse_deadline("next friday")


def test_late_policy_from_course_toml(tmp_path):
    assert load_late_policy(tmp_path) == LatePolicy()
    write(tmp_path / "course.toml", "[late]\nwindow_days = 2\npenalty_per_day = 0.25\ngrace_minutes = 0\n")
    policy = load_late_policy(tmp_path)
    assert policy.penalty(0) == 0 and policy.penalty(60) == 0.25 and policy.penalty(86400 + 1) == 0.5
    assert LatePolicy(max_penalty=0.3).penalty(10 * 86400) == 0.3
    assert LatePolicy().penalty(10 * 60) == 0  # within the 15-minute grace
    write(tmp_path / "course.toml", "[late]\npenalty_per_week = 1\n")
    with pytest.raises(PolicyError, match="unknown \\[late\\] field"):
        load_late_policy(tmp_path)


def git(repo: Path, *args: str, when: datetime | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "s", "GIT_AUTHOR_EMAIL": "s@x.invalid"}
    env.update(GIT_COMMITTER_NAME="s", GIT_COMMITTER_EMAIL="s@x.invalid")
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


def test_collect_checks_out_the_commit_the_deadline_and_policy_pick(a1, tmp_path):
    deadline = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    repo = tmp_path / "work"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shas = {}
    for label, when in (("early", deadline - timedelta(hours=2)), ("late", deadline + timedelta(hours=5)),
                        ("too-late", deadline + timedelta(days=5))):  # fmt: skip
        write(repo / "speedup.py", f"# {label}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", label, when=when)
        shas[label] = git(repo, "rev-parse", "HEAD")
    git(repo.parent, "clone", "-q", "--bare", str(repo), str(tmp_path / "bare.git"))
    (tmp_path / "empty").mkdir()
    git(tmp_path / "empty", "init", "-q")
    students = [
        Student("late", "Late Student", str(repo)),
        Student("ext", "With Extension", str(tmp_path / "bare.git"), extension_days=1),
        Student("gone", "No Repo", str(tmp_path / "nothing-here")),
        Student("empty", "Empty Repo", str(tmp_path / "empty")),
    ]
    subs = {s.student_id: s for s in collect(a1, students, deadline, tmp_path / "subs", LatePolicy(window_days=3))}
    late, ext = subs["late"], subs["ext"]
    assert (late.status, late.sha, late.late_seconds, late.penalty) == ("ok", shas["late"], 5 * 3600, 0.1)
    assert (ext.status, ext.sha, ext.late_seconds, ext.penalty) == ("ok", shas["late"], 0, 0)
    assert subs["gone"].status == "missing" and subs["gone"].message
    assert subs["gone"].message != "and the repository exists."  # git's error, not its footer
    assert subs["empty"].status in ("broken", "no_commit")
    assert (tmp_path / "subs" / "late" / "repo" / "speedup.py").read_text() == "# late\n"
    assert json.loads((tmp_path / "subs" / "late" / "submission.json").read_text())["sha"] == shas["late"]
    # Collecting again fetches into the same clones and picks the same commits.
    again = {s.student_id: s for s in collect(a1, students, deadline, tmp_path / "subs", LatePolicy(window_days=3))}
    assert again["late"].sha == shas["late"] and again["ext"].sha == shas["late"]


@pytest.fixture(scope="module")
def graded_class(a1, tmp_path_factory):
    """Three students graded by `grader grade-all`, killed with SIGKILL mid-run and run again."""
    root = tmp_path_factory.mktemp("class")
    roster, deadline, kinds = synthetic_class.make_class(a1, root / "class", 3, kinds=("reference", "stub", "wrong"))
    subs = root / "subs"
    collect(a1, read_roster(roster), deadline, subs, LatePolicy(), roster=roster)
    cmd = [str(BIN / "grader"), "grade-all", "a1", "--submissions", str(subs), "--course", str(ROOT)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline_s = time.monotonic() + 300
    while time.monotonic() < deadline_s and not list(subs.glob("*/cache/correctness-*.json")):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole run, workers included, mid-grading
    proc.wait()
    done_before = sorted(p.name for p in subs.glob("*/cache/*.json"))
    assert done_before, "the kill came before anything was graded"
    finished = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert finished.returncode == 0, finished.stdout[-2000:] + finished.stderr[-2000:]
    return subs, kinds, done_before, finished.stdout


def test_grade_all_resumes_after_kill_9_losing_and_duplicating_nothing(a1, graded_class):
    subs, kinds, done_before, _ = graded_class
    caches = sorted(p.relative_to(subs) for p in subs.glob("*/cache/*.json"))
    assert len(caches) == 2 * 3, caches  # correctness and performance, once per student
    assert set(done_before) <= {p.name for p in caches}
    assert not list(subs.glob("**/.*.tmp")), "no half-written file was left visible"
    results = {r.submission.student_id: r for r in load_results(subs)}
    assert set(results) == set(kinds) and all(r.complete for r in results.values())
    correctness = {sid: sum(t.score for t in r.report.tests if t.kind == "correctness") for sid, r in results.items()}
    by_kind = {kinds[sid]: pts for sid, pts in correctness.items()}
    assert by_kind == {"reference": 9.0, "stub": 0.0, "wrong": 6.0}
    for r in results.values():
        names = [t.nodeid for t in r.report.tests]
        assert len(names) == len(set(names)), "a test recorded twice"
        assert {t.kind for t in r.report.tests} == {"correctness", "performance"}


def test_second_run_takes_everything_from_the_cache(a1, graded_class):
    subs, *_ = graded_class
    stats = grade_all(a1, subs)
    retried = stats.graded["performance"]  # only CPU speed deferred on a busy machine is tried again
    assert stats.graded["correctness"] == 0 and stats.cached["correctness"] == 3
    assert stats.cached["performance"] + retried == 3


def test_gradebook_feedback_and_html_from_the_same_records(a1, graded_class, tmp_path):
    subs, kinds, *_ = graded_class
    results = load_results(subs)
    rows = list(csv.DictReader(io.StringIO(gradebook_csv(a1, results))))
    assert [r["student_id"] for r in rows] == sorted(kinds)
    for row, r in zip(rows, results, strict=True):
        assert float(row["final"]) == r.final and float(row["amdahl"]) + float(row["fourier"]) == pytest.approx(r.report.score)
        assert row["commit"] == r.submission.sha and row["status"] == "graded"
    export = lms_csv(a1, results)
    lms = list(csv.reader(io.StringIO(export.text)))
    assert lms[0][:3] == ["Student", "ID", "SIS User ID"] and lms[1][0] == "Points Possible" and len(lms) == 2 + 3
    # No GPU here: every student who handed in code has pending GPU speed points: no grade in their cell yet.
    pending = {r.submission.student_id for r in results if r.report.deferred_points > 0}
    assert pending and set(export.pending) == pending
    assert all(row[5] == "" for row in lms[2:] if row[2] in pending)
    assert any("still pending" in n for n in export.notes())
    forced = list(csv.reader(io.StringIO(lms_csv(a1, results, pending_as_zero=True).text)))
    assert [float(row[5]) for row in forced[2:]] == [r.final for r in results]
    written, notes = write_gradebook(a1, results, tmp_path)
    assert notes
    feedback = [p for p in written if p.parent.name == "feedback"]
    assert len(feedback) == 3
    for p in feedback:
        text = p.read_text()
        assert "**Final:" in text and "test_hidden" not in text and "hidden/" not in text
    page = class_report(a1, results)
    measured = {
        f"{t.task}.{t.part}" for r in results for t in r.report.tests
        if t.kind == "performance" and t.status is not Status.deferred and "speedup" in t.metrics
    }  # fmt: skip
    # Score distribution, correctness vs performance, and one speedup plot per line measured
    # (on a machine too busy to judge, every speed test may be deferred: then there is none).
    assert page.count("<img ") == 2 + len(measured) and page.count("<tr>") == 1 + 3 and "data:image/png;base64," in page


def test_lms_csv_follows_the_course_policy_for_missing_students_and_canvas_ids(a1, tmp_path):
    def result(sid: str, status: str, score: float, deferred: float) -> StudentResult:
        tests = (TestRecord(name="t", task="amdahl", part="python", kind="correctness", status=Status.passed,
                            score=score, max_score=score),)  # fmt: skip
        if deferred:
            tests += (TestRecord(name="g", task="fourier", part="gpu", kind="performance", status=Status.deferred,
                                 score=0.0, max_score=deferred),)  # fmt: skip
        sub = Submission(student_id=sid, name=sid.title(), repo_url="", status=status, deadline="2026-12-01T12:00:00+00:00")
        report = GradeReport(
            assignment=a1.id, title=a1.spec.title, submission=sid, machine=Machine(cores=2, gpu="none"), tests=tests
        )
        return StudentResult(sub, report, complete=status == "ok")

    results = [result("done", "ok", 9.0, 0.0), result("waits", "ok", 9.0, 2.0), result("gone", "missing", 0.0, 0.0)]
    export = lms_csv(a1, results, LmsPolicy())
    rows = {row[2]: row[5] for row in csv.reader(io.StringIO(export.text))}
    assert rows["done"] == "9" and rows["waits"] == "" and rows["gone"] == ""
    assert export.pending == ["waits"] and export.missing == ["gone"] and len(export.notes()) == 3
    header = next(csv.reader(io.StringIO(export.text)))
    assert header[-1] == a1.spec.title  # no id: Canvas would make a new assignment, and the notes say so
    write(tmp_path / "course.toml", f'[lms]\nmissing = "zero"\n[lms.canvas_assignment_ids]\n{a1.id} = 4242\n')
    policy = load_lms_policy(tmp_path)
    export = lms_csv(a1, results, policy)
    header, points, *rows = list(csv.reader(io.StringIO(export.text)))
    # Canvas's importer: these five columns, then "Assignment name (Canvas id)"; the Points Possible row.
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{a1.spec.title} (4242)"]
    assert points[0] == "Points Possible" and float(points[5]) == a1.spec.max_score
    assert {r[2]: r[5] for r in rows} == {"done": "9", "waits": "", "gone": "0"}
    assert len(export.notes()) == 1
    write(tmp_path / "course.toml", "[lms]\nmissing = 0\n")
    with pytest.raises(PolicyError, match="missing must be"):
        load_lms_policy(tmp_path)


def test_a_class_collected_for_another_assignment_is_refused(a1, course, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "collection.json").write_text(json.dumps({"assignment": a1.id, "students": []}))
    a2 = course.resolve("a2")
    with pytest.raises(BatchError, match=f"collected for {a1.id}, not {a2.id}: name a1"):
        grade_all(a2, subs)
    done = subprocess.run(
        [str(BIN / "grader"), "report", "a2", "--submissions", str(subs), "--course", str(ROOT)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0 and f"collected for {a1.id}, not {a2.id}" in " ".join(done.stderr.split())
    assert not (subs / "report").exists()


def test_pending_points_are_named_and_filled_by_one_command(a1, graded_class, tmp_path):
    """Graded without a GPU: lms.csv leaves the pending students blank and the report names them.
    A simulated GPU machine's folder (the same commits, every pending line judged) is merged with
    one command, and lms.csv is complete."""
    subs = tmp_path / "subs"
    shutil.copytree(graded_class[0], subs)
    report = subprocess.run(
        [str(BIN / "grader"), "report", "a1", "--submissions", str(subs), "--course", str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    said = " ".join(report.stderr.split())
    assert report.returncode == 0 and "pending:" in said and "--gpu cuda" in said, said
    kinds = graded_class[1]
    lms = list(csv.reader(io.StringIO((subs / "report" / "lms.csv").read_text())))
    # Every student who handed in code has GPU speed lines pending here; the untouched stub has
    # nothing to time, so its speed lines fail, no worker started, and its total is final.
    assert {row[2]: row[5] == "" for row in lms[2:]} == {sid: kind != "stub" for sid, kind in kinds.items()}
    stub = next(r for r in load_results(subs) if kinds[r.submission.student_id] == "stub")
    speed = [t for t in stub.report.tests if t.kind == "performance"]
    assert speed and all(t.status is Status.failed for t in speed)
    assert all(t.message == "not timed: speedup.py is identical to the released stub: nothing was handed in" for t in speed)
    gpu_box = tmp_path / "gpu-box"
    shutil.copytree(subs, gpu_box)
    for cache in gpu_box.glob("*/cache/performance-*.json"):
        data = json.loads(cache.read_text())
        data["machine"].update(gpu="cuda", gpu_name="simulated GPU", hostname="gpu-box")
        data["graded_at"] = "2099-01-01T00:00:00+00:00"
        for t in data["tests"]:
            if t["status"] == "deferred":
                t.update(status="passed", score=t["max_score"], message="judged on the GPU box")
        cache.write_text(json.dumps(data))
    merged = subprocess.run(
        [str(BIN / "grader"), "merge-class", "a1", "--submissions", str(subs), "--from", str(gpu_box), "--course", str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert merged.returncode == 0, merged.stderr
    assert "merged results of 3 student(s)" in merged.stdout and "pending:" not in merged.stderr
    lms = list(csv.reader(io.StringIO((subs / "report" / "lms.csv").read_text())))
    results = {r.submission.student_id: r for r in load_results(subs)}
    assert {row[2]: float(row[5]) for row in lms[2:]} == {sid: r.final for sid, r in results.items()}
    for sid, r in results.items():
        gpu = [t for t in r.report.tests if t.part == "gpu" and t.kind == "performance"]
        assert gpu and all(t.status is Status.passed and t.provenance["host"] == "gpu-box" for t in gpu) != (kinds[sid] == "stub")


def test_only_a_stub_or_a_module_that_does_not_parse_goes_untimed(a1, tmp_path):
    """The speed phase skips its worker only for facts of the file itself: every speed test of such a
    module fails the same way. Anything else, a notebook included, is timed."""
    module = tmp_path / a1.spec.module_file
    shutil.copyfile(a1.stub_module, module)
    stub = (Status.failed, f"{module.name} is identical to the released stub: nothing was handed in")
    assert nothing_to_time(a1, tmp_path) == stub  # its tests fail, as the stub's do in a worker
    module.write_text(a1.stub_module.read_text() + "\ndef broken(:\n")
    status, why = nothing_to_time(a1, tmp_path)  # an import error, as a worker records it
    assert status is Status.error and why.startswith(f"{module.name} has a syntax error at line")
    shutil.copyfile(a1.solution_module, module)
    assert nothing_to_time(a1, tmp_path) is None
    module.unlink()
    (tmp_path / "speedup.ipynb").write_text("{}")
    assert nothing_to_time(a1, tmp_path) is None


def test_overrides_survive_regrading_and_reporting_with_their_audit_trail(a1, graded_class, tmp_path):
    subs = tmp_path / "subs"
    shutil.copytree(graded_class[0], subs)
    kinds = graded_class[1]
    stub = next(sid for sid, kind in kinds.items() if kind == "stub")
    cli = [str(BIN / "grader"), "override", "a1", "--submissions", str(subs), "--course", str(ROOT)]
    env = {**os.environ, "PARLAB_TA": "Ada (TA)"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*cli, *args], capture_output=True, text=True, timeout=300, env=env)

    refused = run("--student", stub, "--line", "amdahl.python.correctness", "--points", "99", "--reason", "x")
    assert refused.returncode != 0 and "worth 0 to 3 points" in " ".join(refused.stderr.split())
    assert run("--student", stub, "--line", "nope.cpu.correctness", "--points", "1", "--reason", "x").returncode != 0
    assert run("--student", stub, "--line", "amdahl.python.correctness", "--points", "1").returncode != 0  # no reason
    done = run(
        "--student", stub, "--line", "amdahl.python.correctness", "--points", "2", "--reason", "derivation shown in office hours"
    )
    assert done.returncode == 0, done.stderr
    assert "0 → 2" in done.stdout
    grade_all(a1, subs)  # re-grade (from the cache) and re-report: the override is applied on reading
    report = subprocess.run(
        [str(BIN / "grader"), "report", "a1", "--submissions", str(subs), "--course", str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    results = {r.submission.student_id: r for r in load_results(subs, a1)}
    mine = results[stub]
    assert mine.points == 2.0 and [o.line for o in mine.overrides] == ["amdahl.python.correctness"]
    rows = {row["student_id"]: row for row in csv.DictReader(io.StringIO((subs / "report" / "gradebook.csv").read_text()))}
    assert float(rows[stub]["points"]) == 2.0 and rows[stub]["overrides"] == "1" and float(rows[stub]["amdahl"]) == 2.0
    feedback = (subs / "report" / "feedback" / f"{stub}.md").read_text()
    assert "Set by your teaching staff" in feedback and "derivation shown in office hours" in feedback and "Ada (TA)" in feedback
    total = run("--student", stub, "--line", "total", "--points", "5", "--reason", "regrade request")
    assert total.returncode == 0 and load_results(subs, a1)[sorted(kinds).index(stub)].points == 5.0
    cleared = run("--student", stub, "--line", "total", "--clear", "--reason", "regrade request withdrawn")
    assert cleared.returncode == 0
    listed = run()
    assert listed.stdout.count(stub) == 3 and "restored" in listed.stdout  # the whole trail, clears included
    log = json.loads((subs / "overrides.json").read_text())
    assert [e["points"] for e in log] == [2.0, 5.0, None] and all(e["by"] == "Ada (TA)" and e["at"] for e in log)


def test_the_class_report_shows_a_missing_module_among_the_flags(a1):
    report = GradeReport(
        "a1_speedup", "A1", "subs/ann/repo", Machine(2, "cudasim"), (),
        errors=("speedup.py is missing from the submission folder subs/ann/repo; Python files there: main.py",),
        flags=("speedup.py is identical to the released stub: nothing was handed in",),
    )  # fmt: skip
    sub = Submission("ann", "Ann", "repo", "ok", "2026-12-01T00:00:00+00:00", sha="abc")
    result = StudentResult(sub, report, complete=True)
    page = class_report(a1, [result])
    assert "speedup.py is missing from the submission folder" in page and "identical to the released stub" in page
    rows = list(csv.DictReader(io.StringIO(gradebook_csv(a1, [result]))))
    assert rows[0]["flags"] == "2"


def test_grade_all_grades_a_class_that_hands_in_notebooks(a1, tmp_path):
    """Repositories holding `speedup.ipynb` instead of `speedup.py`: collected, graded, and scored as
    the same code in a module would be. A cell with a syntax error is left out, as Jupyter would not
    run it: what it defines is missing (those tests error) and the report says which cell."""
    kinds = ("reference", "wrong", "broken")
    roster, deadline, kind_of = synthetic_class.make_class(a1, tmp_path / "class", 3, kinds=kinds, notebooks=True)
    assert all((tmp_path / "class" / "repos" / sid / "assignments" / "a1_speedup" / "speedup.ipynb").is_file() for sid in kind_of)
    subs = tmp_path / "subs"
    collect(a1, read_roster(roster), deadline, subs, LatePolicy(), roster=roster)
    grade_all(a1, subs)
    results = {kind_of[r.submission.student_id]: r for r in load_results(subs)}
    correctness = {k: sum(t.score for t in r.report.tests if t.kind == "correctness") for k, r in results.items()}
    assert correctness == {"reference": 9.0, "wrong": 6.0, "broken": 6.0}
    broken = results["broken"].report
    assert any("does not parse" in flag and "left out" in flag for flag in broken.flags), broken.flags
    amdahl = [t for t in broken.tests if t.task == "amdahl"]
    assert amdahl and all(t.score == 0 and "speedup.py defines no 'karp_flatt'" in t.message for t in amdahl), amdahl[0].message
