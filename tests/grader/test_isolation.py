"""A submission cannot reach anything outside its sandbox: processes, files, network.

Each attack in tests/attacks/a1_speedup/ that aims past the sandbox is graded by the `grader` CLI
in a child process (so an attack that worked would end that child, never this test run), and the
test checks the grader's results and the world around it: results written, files untouched
(checksums before and after), the listener never reached, the report saying `isolation: full`.

Attacks that would be dangerous where isolation did not hold (kill(-1) as root, writing to every
path on every visible command line) run only after the machine is confirmed to isolate; where
bubblewrap is installed (`.ci/run` installs it) a machine that cannot isolate is a failure, not a skip. The grader's
behaviour without isolation is tested with ``PARLAB_ISOLATION=off``: it grades, records
`reduced`, warns, and grade-all outlives a submission that kills it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.classroom.collect import collect, read_roster
from grader.classroom.policies import LatePolicy
from grader.classroom.records import load_results
from grader.core.devices import TIMING_ENV
from grader.core.results import Status
from grader.run import isolation

from ..conftest import ROOT
from .test_batch import synthetic_class

ATTACKS = ROOT / "tests" / "attacks" / "a1_speedup"
GRADER = [sys.executable, "-m", "grader"]
CHEAP = ["--select", "amdahl", "--select", "fourier.cpu.correctness"]


@pytest.fixture(scope="module")
def isolated():
    """Only where the worker is confirmed isolated: the dangerous attacks need it."""
    iso = isolation.detect()
    if not iso.full:
        if isolation.mode() == "required" or shutil.which("bwrap"):  # installed (as .ci/run does) yet not working
            pytest.fail(f"the worker cannot be isolated: {iso.why}")
        pytest.skip(f"isolation not available here: {iso.why}")
    return iso


def submission(tmp_path: Path, a1, attack: str, targets: dict | None = None, name: str = "sub") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    reference = (a1.solution_dir / "speedup.py").read_text()
    (folder / "speedup.py").write_text(reference + "\n" + (ATTACKS / f"{attack}.py").read_text())
    if targets is not None:
        (folder / "targets.json").write_text(json.dumps(targets))
    return folder


def grade(folder: Path, out: Path, *extra: str, env: dict | None = None, course: Path = ROOT) -> subprocess.CompletedProcess:
    cmd = [*GRADER, "grade", "a1", "--submission", str(folder), "--json", str(out), "--course", str(course), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})


def points(report: dict, **where) -> tuple[float, float]:
    tests = [t for t in report["tests"] if all(t[k] == v for k, v in where.items())]
    return sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)


def checksums(*folders: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_a_submission_cannot_kill_the_grader(isolated, a1, tmp_path):
    out = tmp_path / "out" / "results.json"
    done = grade(submission(tmp_path, a1, "kill_grader"), out, *CHEAP)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["isolation"] == "full" and "isolation: full" in done.stdout
    got, top = points(report)
    assert got == top == 6.0  # the reference it is appended to, untouched by the failed kill


def test_kill_minus_one_ends_only_the_sandbox(isolated, a1, tmp_path):
    bystander = subprocess.Popen(["sleep", "300"])  # a process of the grading user, outside the sandbox
    try:
        out = tmp_path / "results.json"
        done = grade(submission(tmp_path, a1, "kill_everything"), out, *CHEAP)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert bystander.poll() is None, "kill(-1) in the sandbox reached a process outside it"
        report = json.loads(out.read_text())
        cpu = [t for t in report["tests"] if t["part"] == "cpu"]
        # alone in its namespace (bar bwrap, its init, which it may not signal): nothing to kill but itself
        ends = ("found no process it may signal", "died")
        assert cpu and all(t["score"] == 0 and any(e in t["message"] for e in ends) for t in cpu), [t["message"] for t in cpu]
        assert points(report, task="amdahl") == (3.0, 3.0)
        assert report["isolation"] == "full"
    finally:
        bystander.kill()
        bystander.wait()


class Listener:
    """A TCP server on every interface of the host that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


def host_addresses() -> list[str]:
    found = {"127.0.0.1"}
    try:
        found.update(info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET))
    except OSError:
        pass
    return sorted(found)


def test_nothing_outside_the_scratch_folder_can_be_touched(isolated, a1, tmp_path):
    """Other students' results, another submission, the grader's output, the course (a copy, with
    its hidden tests and solutions) and the real checkout's hidden files, by exact path; a listener
    on the host. The attack fails amdahl_speedup for every one that gets through."""
    course = tmp_path / "course"
    for part in ("assignments/a1_speedup", "solutions/a1_speedup", "tests/hidden/a1_speedup"):
        shutil.copytree(ROOT / part, course / part)
    klass = tmp_path / "class"
    (klass / "other_student").mkdir(parents=True)
    (klass / "other_student" / "result.json").write_text('{"score": 3}\n')
    other = submission(klass, a1, "kill_grader", name="neighbour")  # any other student's code
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "earlier.json").write_text('{"score": 7}\n')
    listener = Listener()
    try:
        targets = {
            "write": [
                str(klass / "other_student" / "result.json"),
                str(other / "speedup.py"),
                str(outdir / "earlier.json"),
                str(outdir / "results.json"),
                str(course / "assignments" / "a1_speedup" / "assignment.toml"),
                str(course / "tests" / "hidden" / "a1_speedup" / "test_hidden.py"),
                str(course / "solutions" / "a1_speedup" / "speedup.py"),
                str(ROOT / "assignments" / "planted.json"),
            ],
            "read": [
                str(course / "tests" / "hidden" / "a1_speedup" / "test_hidden.py"),
                str(course / "solutions" / "a1_speedup" / "speedup.py"),
                str(ROOT / "tests" / "hidden" / "a1_speedup" / "test_hidden.py"),
                str(ROOT / "solutions" / "a1_speedup" / "speedup.py"),
                str(klass / "other_student" / "result.json"),
            ],
            "connect": [[host, listener.port] for host in host_addresses()],
        }
        sub = submission(tmp_path, a1, "reach_outside", targets)
        before = checksums(course, klass, outdir, ROOT / "tests" / "hidden", ROOT / "solutions")
        done = grade(sub, outdir / "results.json", "--select", "amdahl", course=course)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        after = checksums(course, klass, outdir, ROOT / "tests" / "hidden", ROOT / "solutions")
        assert listener.accepted == 0, "a socket from the sandbox reached the host"
    finally:
        listener.close()
    report = json.loads((outdir / "results.json").read_text())
    messages = [t["message"] for t in report["tests"] if t["status"] != "passed"]
    assert points(report) == (3.0, 3.0), messages  # nothing escaped
    assert report["isolation"] == "full"
    assert {k: v for k, v in after.items() if k != str(outdir / "results.json")} == {
        k: v for k, v in before.items() if k != str(outdir / "results.json")
    }
    assert not (ROOT / "assignments" / "planted.json").exists()


def test_without_isolation_grading_completes_records_reduced_and_warns(a1, tmp_path):
    folder = tmp_path / "sub"
    shutil.copytree(a1.solution_dir, folder)
    out = tmp_path / "results.json"
    done = grade(folder, out, "--select", "amdahl", env={isolation.MODE_ENV: "off"})
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["isolation"].startswith("reduced: turned off") and points(report) == (3.0, 3.0)
    assert "WARNING: submissions ran with reduced isolation" in " ".join(done.stdout.split())
    student = subprocess.run(
        [*GRADER, "test", "a1", "--submission", str(folder), "--select", "amdahl", "--course", str(ROOT)],
        capture_output=True, text=True, timeout=600, env={**os.environ, isolation.MODE_ENV: "off"},
    )  # fmt: skip
    assert student.returncode == 0 and "isolation: reduced" in student.stdout and "WARNING" not in student.stdout
    required = grade(folder, tmp_path / "never.json", env={isolation.MODE_ENV: "required", "PATH": str(tmp_path)})
    assert not (tmp_path / "never.json").exists()
    assert required.returncode != 0 and "isolation is required" in required.stderr + required.stdout


def test_isolation_is_reduced_where_bubblewrap_is_missing(monkeypatch):
    monkeypatch.setattr(isolation.shutil, "which", lambda name: None)
    monkeypatch.delenv(isolation.MODE_ENV, raising=False)
    isolation.detect.cache_clear()
    try:
        iso = isolation.detect()
        assert not iso.full and "bubblewrap is not installed" in iso.level
        cmd = ["python", "-c", "pass"]
        assert iso.wrap(cmd, workdir=Path("/tmp"), cwd=Path("/tmp"), readable=[], gpu=False) == cmd
    finally:
        isolation.detect.cache_clear()


def test_grade_all_outlives_a_submission_that_kills_it(a1, tmp_path):
    """Without isolation the worker can kill grade-all. Each death is pinned on the submissions in
    flight; a rerun grades those first, alone, and one in flight at a second death gets an error
    instead of a third try, so the class finishes."""
    roster, deadline, kinds = synthetic_class.make_class(a1, tmp_path / "class", 3, kinds=("reference",))
    subs = tmp_path / "subs"
    collect(a1, read_roster(roster), deadline, subs, LatePolicy(), roster=roster)
    killer = sorted(kinds)[1]
    module = next((subs / killer / "repo").rglob("speedup.py"))
    module.write_text(module.read_text() + "\n" + (ATTACKS / "kill_grader.py").read_text())
    env = {**os.environ, isolation.MODE_ENV: "off", TIMING_ENV: "off"}  # about deaths, not speed: not timed
    cmd = [*GRADER, "grade-all", "a1", "--submissions", str(subs), "--course", str(ROOT), "--jobs", "1"]
    codes = []
    for _ in range(4):
        started = time.monotonic()
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env, start_new_session=True)
        codes.append((done.returncode, round(time.monotonic() - started)))
        if done.returncode == 0:
            break
    assert [c for c, _ in codes] == [-9, -9, 0], (codes, done.stdout[-2000:], done.stderr[-2000:])
    results = {r.submission.student_id: r for r in load_results(subs)}
    assert all(r.complete for r in results.values())
    hit = results[killer].report
    assert hit.score == 0 and all(t.status is Status.error for t in hit.tests) and hit.tests
    assert "stopped abnormally 2 times" in hit.errors[0]
    for sid, r in results.items():
        if sid != killer:
            assert sum(t.score for t in r.report.tests if t.kind == "correctness") == 9.0, sid
    assert "stopped abnormally" in done.stdout + done.stderr  # the TA is told which one and why
