"""Grading a whole class: collect every student's repository at the deadline, grade each one, resume after a crash.

Layout of a submissions folder (`--out` of collect, `--submissions` of grade-all):

    collection.json                 assignment, deadline, roster file, when collected
    <student_id>/submission.json    who, repository URL, status, commit SHA and time, lateness, penalty
    <student_id>/repo/              the repository checked out (detached) at that commit
    <student_id>/cache/<phase>-<sha>-<suite>.json   one grading phase's GradeReport
    <student_id>/inflight-<phase>.json              a grading under way (left behind if grade-all died)
    <student_id>/result.json        the merged GradeReport plus submission facts (what reports read)

Correctness phases of different students run in parallel (`--jobs`); performance phases run one
at a time afterwards, on an otherwise idle machine, because parallel timings would corrupt each
other. Each phase's result is cached under the commit SHA and a hash of the test suite (assignment,
hidden tests, solution, grader), written atomically, so a rerun skips everything already done and
a run killed at any moment loses at most the gradings in flight and never duplicates one.

Where the worker cannot be isolated from the grader (`isolation.py`: `reduced`), a submission can
kill grade-all itself. Each grading in flight is marked on disk; a rerun grades the submissions
that were in flight when a run died first, one at a time, and a submission in flight at
`MAX_DEATHS` deaths gets an error for that phase instead of a third try: the class goes on.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from .course import Assignment, SubmissionLayoutError, find_module_folder
from .devices import choose_backend, gpu_exclusive
from .grading import GradingError, grade_submission
from .integrity import course_fingerprint
from .merge import MergeError, merge_reports
from .overrides import TOTAL, Override
from .overrides import apply as apply_overrides
from .overrides import current as current_overrides
from .overrides import read_log as read_overrides
from .policy import LatePolicy
from .results import GradeReport, Machine, Status, TestRecord, write_text_atomic

PHASES = {"correctness": "*.*.correctness", "performance": "*.*.performance"}
GIT_TIMEOUT_S = 300
MAX_DEATHS = 2  # runs that died with a submission in flight before it is skipped with an error
MISSING_REPO_SIGNS = ("does not exist", "not found", "Could not read from remote", "not appear to be")
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")  # also a folder name


class BatchError(Exception):
    """A roster, deadline or submissions folder the batch cannot work with; the message says how to fix it."""


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str
    repo: str
    extension_days: float = 0.0


def read_roster(path: Path) -> list[Student]:
    """CSV with a header: student_id, name, repo (any URL or path git accepts), optional extension_days."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
            header = [h.strip() for h in (rows[0].keys() if rows else [])]
    except OSError as exc:
        raise BatchError(f"cannot read roster {path}: {exc.strerror}") from None
    if not rows:
        raise BatchError(f"roster {path} has no students (expected a header: student_id,name,repo[,extension_days])")
    missing = {"student_id", "name", "repo"} - set(header)
    if missing:
        raise BatchError(f"roster {path} lacks column(s) {sorted(missing)}; found {header}")
    students, seen = [], set()
    for line, row in enumerate(rows, start=2):
        sid = (row.get("student_id") or "").strip()
        if not STUDENT_ID.match(sid):
            raise BatchError(f"{path}:{line}: student_id {sid!r} must be letters, digits and ._@+- (it names a folder)")
        if sid in seen:
            raise BatchError(f"{path}:{line}: student_id {sid!r} appears twice")
        seen.add(sid)
        ext = (row.get("extension_days") or "").strip() or "0"
        try:
            extension = float(ext)
        except ValueError:
            raise BatchError(f"{path}:{line}: extension_days {ext!r} is not a number") from None
        repo = (row.get("repo") or "").strip()
        if not repo:
            raise BatchError(f"{path}:{line}: student {sid!r} has no repo (a URL or path git can clone)")
        students.append(Student(sid, (row.get("name") or "").strip(), repo, extension))
    return students


def parse_deadline(text: str) -> datetime:
    try:
        deadline = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BatchError(f"deadline {text!r} is not ISO 8601, e.g. 2026-12-01T23:59:00+01:00") from None
    if deadline.tzinfo is None:
        raise BatchError(f"deadline {text!r} needs a time zone, e.g. 2026-12-01T23:59:00+01:00 or …Z for UTC")
    return deadline


@dataclass(frozen=True)
class Submission:
    """What collect found for one student."""

    student_id: str
    name: str
    repo_url: str
    status: str  # ok | missing (no repository) | broken (git failed) | no_commit (nothing before the cutoff)
    deadline: str  # ISO, the student's own (extension applied)
    sha: str = ""
    commit_time: str = ""
    late_seconds: float = 0.0
    penalty: float = 0.0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Submission:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}  # never hang on a password prompt
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, env=env)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, ["git", *args], done.stdout, done.stderr)
    return done.stdout.strip()


def collect_one(student: Student, deadline: datetime, policy: LatePolicy, out: Path) -> Submission:
    """Clone or fetch one repository and check out the commit to grade. Never raises for the student's faults."""
    cutoff = deadline + timedelta(days=student.extension_days)
    base = Submission(student.student_id, student.name, student.repo, "ok", cutoff.isoformat())
    repo = out / student.student_id / "repo"
    try:
        if (repo / ".git").is_dir():
            _git("fetch", "--quiet", "--force", "--prune", "origin", cwd=repo)
            _git("remote", "set-head", "origin", "--auto", cwd=repo)
        else:
            if repo.exists():
                shutil.rmtree(repo)
            repo.parent.mkdir(parents=True, exist_ok=True)
            _git("clone", "--quiet", "--no-checkout", "--", student.repo, str(repo))
    except subprocess.CalledProcessError as exc:
        err = [line.strip() for line in (exc.stderr or "").strip().splitlines() if line.strip()]
        # git's last line alone ("and the repository exists.") says nothing: keep the error, not the footer
        text = " ".join(err[-4:])[-400:] if err else f"git exit code {exc.returncode}"
        gone = any(s in (exc.stderr or "") for s in MISSING_REPO_SIGNS)
        return replace(base, status="missing" if gone else "broken", message=text)
    except subprocess.TimeoutExpired:
        return replace(base, status="broken", message=f"git took longer than {GIT_TIMEOUT_S} s")
    try:
        head = _default_branch(repo)
        window_end = cutoff + timedelta(seconds=policy.window_seconds)
        sha = _git("rev-list", "-1", f"--before={int(window_end.timestamp())}", head, cwd=repo)
        if not sha:
            return replace(base, status="no_commit", message=f"no commit on {head} before {window_end.isoformat()}")
        committed = datetime.fromisoformat(_git("show", "-s", "--format=%cI", sha, cwd=repo))
        _git("checkout", "--quiet", "--force", "--detach", sha, cwd=repo)
        _git("clean", "-ffdxq", cwd=repo)
    except subprocess.CalledProcessError as exc:
        return replace(base, status="broken", message=(exc.stderr or "").strip()[-300:] or "git failed")
    late = max(0.0, (committed - cutoff).total_seconds())
    return replace(base, sha=sha, commit_time=committed.isoformat(), late_seconds=late, penalty=policy.penalty(late))


def _default_branch(repo: Path) -> str:
    for ref in ("origin/HEAD", "origin/main", "origin/master"):
        try:
            _git("rev-parse", "--verify", "--quiet", ref, cwd=repo)
            return ref
        except subprocess.CalledProcessError:
            continue
    raise subprocess.CalledProcessError(1, ["git"], "", "the repository has no commits (no origin/HEAD, main or master)")


def collect(
    assignment: Assignment,
    students: list[Student],
    deadline: datetime,
    out: Path,
    policy: LatePolicy,
    *,
    roster: Path | None = None,
    jobs: int = 4,
    on_done: Callable[[Submission], None] = lambda s: None,
) -> list[Submission]:
    """Collect every student (git work in parallel: it waits on the network, not the CPU)."""
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        out / "collection.json",
        {
            "assignment": assignment.id,
            "deadline": deadline.isoformat(),
            "roster": str(roster) if roster else "",
            "collected_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "students": [s.student_id for s in students],
        },
    )
    results: dict[str, Submission] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(collect_one, s, deadline, policy, out): s for s in students}
        for future in as_completed(futures):
            sub = future.result()
            write_json_atomic(out / sub.student_id / "submission.json", sub.to_dict())
            results[sub.student_id] = sub
            on_done(sub)
    return [results[s.student_id] for s in students]


def load_submissions(folder: Path, assignment_id: str | None = None) -> list[Submission]:
    """The collected submissions in roster order; with ``assignment_id``, refuses a class collected for another."""
    folder = Path(folder)
    meta = folder / "collection.json"
    if not meta.is_file():
        raise BatchError(f"{folder} is not a collected class (no collection.json): run `grader collect` first")
    try:
        collection = json.loads(meta.read_text())
    except ValueError as exc:
        raise BatchError(f"{meta} is not valid JSON ({exc}): collect again") from None
    collected_for = collection.get("assignment", "")
    if assignment_id is not None and collected_for != assignment_id:
        short = collected_for.split("_")[0] if collected_for else "its assignment"
        raise BatchError(
            f"{folder} was collected for {collected_for or 'an unknown assignment'}, not {assignment_id}: "
            f"name {short}, or the folder collected for {assignment_id}"
        )
    order = collection.get("students", [])
    subs = []
    for sid in order:
        path = folder / sid / "submission.json"
        if path.is_file():
            subs.append(Submission.from_dict(json.loads(path.read_text())))
    return subs


def suite_version(assignment: Assignment) -> str:
    """Hash of everything that decides a grade besides the student's code: tests, spec, solution, grader."""
    grader_pkg = Path(__file__).resolve().parent
    prints = course_fingerprint([assignment.folder, assignment.hidden_dir, assignment.solution_dir, grader_pkg])
    digest = hashlib.sha256()
    for path in sorted(prints):
        rel = os.path.relpath(path, assignment.course_root)
        digest.update(f"{rel}\0{prints[path]}\n".encode())
    return digest.hexdigest()[:16]


def phases_of(assignment: Assignment) -> list[str]:
    has_perf = any(kind == "performance" for (_, _, kind) in assignment.spec.buckets())
    return ["correctness", "performance"] if has_perf else ["correctness"]


@dataclass
class BatchStats:
    graded: dict[str, int] = field(default_factory=lambda: {p: 0 for p in PHASES})
    cached: dict[str, int] = field(default_factory=lambda: {p: 0 for p in PHASES})
    seconds: dict[str, float] = field(default_factory=lambda: {p: 0.0 for p in PHASES})
    failures: list[str] = field(default_factory=list)


def _cache_path(folder: Path, sub: Submission, phase: str, suite: str) -> Path:
    return folder / sub.student_id / "cache" / f"{phase}-{sub.sha[:12]}-{suite}.json"


def _read_cache(path: Path) -> GradeReport | None:
    try:
        return GradeReport.read_json(path)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, or unreadable (a disk problem, a hand edit): grade it


def _pending_lines(report: GradeReport, real_gpu: bool) -> list[str]:
    """The pending lines a rerun here may judge: CPU speed the machine was too busy for; GPU lines on a real GPU."""
    return sorted({t.line for t in report.tests if t.status is Status.deferred and (t.part != "gpu" or real_gpu)})


def _grade_phase(
    assignment: Assignment,
    folder: Path,
    sub: Submission,
    phase: str,
    suite: str,
    gpu: str | None,
    earlier: GradeReport | None = None,
    lines: list[str] | None = None,
) -> GradeReport:
    """Grade one phase (or, given an ``earlier`` report, only its pending ``lines``, merged into it) and cache it."""
    report = grade_submission(
        assignment,
        find_module_folder(folder / sub.student_id / "repo", assignment),
        hidden=True,
        gpu=gpu,
        select=lines or [PHASES[phase]],
    )
    if earlier is not None:
        report = merge_reports([("earlier run", earlier), ("this run", report)])
    write_json_atomic(_cache_path(folder, sub, phase, suite), report.to_dict())
    return report


def _inflight_path(folder: Path, sub: Submission, phase: str) -> Path:
    return folder / sub.student_id / f"inflight-{phase}.json"


def _deaths(folder: Path, sub: Submission, phase: str) -> int:
    """How many grade-all runs ended (died) while this submission's phase was being graded."""
    try:
        return int(json.loads(_inflight_path(folder, sub, phase).read_text()).get("attempts", 0))
    except (OSError, ValueError, AttributeError):
        return 0


def _died_grading(assignment: Assignment, sub: Submission, phase: str, deaths: int, folder: Path) -> GradeReport:
    """The phase's report for a submission that was in flight each time grade-all died: errors, not zeros in silence."""
    message = (
        f"grade-all stopped abnormally {deaths} times while this submission was being graded: it may have killed the "
        "grader (grading ran with reduced isolation). Not graded: look at the code; to try again, delete "
        f"{sub.student_id}/cache/{phase}-*.json and {sub.student_id}/inflight-*.json, then rerun grade-all"
    )
    kind = PHASES[phase].rsplit(".", 1)[1]
    tests = tuple(
        TestRecord(name=f"{task}.{part} {k}", task=task, part=part, kind=k, status=Status.error, score=0.0, max_score=points,
                   message=message)
        for (task, part, k), points in assignment.spec.buckets().items()
        if k == kind and points > 0
    )  # fmt: skip
    return GradeReport(
        assignment=assignment.id,
        title=assignment.spec.title,
        submission=str(folder / sub.student_id),
        machine=Machine(cores=0, gpu="none"),
        tests=tests,
        visibility="all",
        errors=(message,),
        flags=(f"{sub.student_id} ({phase}): {message}",),
        graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def grade_all(
    assignment: Assignment,
    folder: Path,
    *,
    jobs: int = 2,
    gpu: str | None = None,
    on_phase: Callable[[str, int], None] = lambda phase, total: None,
    on_done: Callable[[str, Submission, bool], None] = lambda phase, sub, cached: None,
) -> BatchStats:
    """Grade every collected submission; see the module docstring for phases, caching and resumption."""
    folder = Path(folder)
    subs = [s for s in load_submissions(folder, assignment.id) if s.status == "ok"]
    suite = suite_version(assignment)
    try:
        real_gpu = choose_backend(gpu)[0] == "cuda"
    except ValueError as exc:
        raise BatchError(str(exc)) from None
    stats = BatchStats()
    earlier: dict[tuple[str, str], GradeReport] = {}  # cached phases with pending lines to judge now
    reports: dict[str, dict[str, GradeReport]] = {s.student_id: {} for s in subs}
    phases = phases_of(assignment)
    for index, phase in enumerate(phases):
        on_phase(phase, len(subs))
        todo, suspects = [], []
        for sub in subs:
            cached = _cache_path(folder, sub, phase, suite)
            report = _read_cache(cached)
            deaths = _deaths(folder, sub, phase)
            if report is not None and not _pending_lines(report, real_gpu):
                reports[sub.student_id][phase] = report
                stats.cached[phase] += 1
                on_done(phase, sub, True)
                continue
            if report is not None:
                earlier[(sub.student_id, phase)] = report
            # Its marker stays behind after two deaths: one in an earlier phase skips the later ones too.
            if deaths >= MAX_DEATHS or any(_deaths(folder, sub, p) >= MAX_DEATHS for p in phases[:index]):
                report = _died_grading(assignment, sub, phase, max(deaths, MAX_DEATHS), folder)
                write_json_atomic(cached, report.to_dict())
                reports[sub.student_id][phase] = report
                stats.failures.append(f"{sub.student_id} ({phase}): {report.errors[0]}")
                on_done(phase, sub, False)
            else:
                (suspects if deaths else todo).append(sub)
        # Timings need the machine to themselves; a GPU in exclusive-process mode takes one process at a time.
        workers = max(1, jobs) if phase == "correctness" and not (real_gpu and gpu_exclusive()) else 1

        def run(sub: Submission, phase: str = phase) -> tuple[Submission, GradeReport | None, float]:
            started = datetime.now(timezone.utc)
            marker = _inflight_path(folder, sub, phase)
            write_json_atomic(marker, {"attempts": _deaths(folder, sub, phase) + 1, "started": started.isoformat()})
            before = earlier.get((sub.student_id, phase))
            lines = _pending_lines(before, real_gpu) if before is not None else None
            try:
                report = _grade_phase(assignment, folder, sub, phase, suite, gpu, before, lines)
            except GradingError as exc:
                if not exc.usage:  # the course itself changed: stop, the TA must restore it, then rerun
                    raise
                stats.failures.append(f"{sub.student_id} ({phase}): {exc}")
                return sub, None, 0.0
            except SubmissionLayoutError as exc:
                stats.failures.append(f"{sub.student_id} ({phase}): {exc}")
                return sub, None, 0.0
            except Exception as exc:  # noqa: BLE001 - one submission's trouble must not stop the class
                stats.failures.append(f"{sub.student_id} ({phase}): {type(exc).__name__}: {str(exc)[:300]}")
                return sub, None, 0.0
            finally:
                marker.unlink(missing_ok=True)  # this process is alive: whatever happened, it was not a death
            return sub, report, (datetime.now(timezone.utc) - started).total_seconds()

        def record(sub: Submission, report: GradeReport | None, seconds: float, phase: str = phase) -> None:
            if report is not None:
                reports[sub.student_id][phase] = report
                stats.graded[phase] += 1
                stats.seconds[phase] += seconds
            elif (sub.student_id, phase) in earlier:  # judging its pending lines failed: keep what was graded
                reports[sub.student_id][phase] = earlier[(sub.student_id, phase)]
            on_done(phase, sub, False)

        for sub in suspects:  # in flight when a run died: alone, so a second death names the one that caused it
            record(*run(sub))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in as_completed([pool.submit(run, s) for s in todo]):
                record(*future.result())
    for sub in load_submissions(folder):
        write_result(folder, sub, reports.get(sub.student_id, {}), assignment)
    return stats


@dataclass
class MergeStats:
    merged: list[str] = field(default_factory=list)  # student ids whose results took something from the other folder
    skipped: list[str] = field(default_factory=list)  # why a student's results could not be merged


def merge_class(assignment: Assignment, folder: Path, other: Path) -> MergeStats:
    """Fill this class's results from another grading of the same commits (a GPU machine's folder).

    Per student and phase, `grader merge`'s rule picks each test's record (judged beats pending, a
    real GPU beats the simulator, then the newer run) and keeps its provenance. Refused per student
    when the commits differ, and for the whole folder when it was collected for another assignment
    or graded with another test suite.
    """
    folder, other = Path(folder), Path(other)
    mine = {s.student_id: s for s in load_submissions(folder, assignment.id)}
    theirs = {s.student_id: s for s in load_submissions(other, assignment.id)}
    suite = suite_version(assignment)
    phases = phases_of(assignment)
    stats = MergeStats()
    parts: dict[str, dict[str, GradeReport]] = {}  # per student and phase: what result.json is written from
    for sid, sub in mine.items():
        here_all = {phase: _read_cache(_cache_path(folder, sub, phase, suite)) for phase in phases} if sub.status == "ok" else {}
        parts[sid] = {phase: report for phase, report in here_all.items() if report is not None}
        if sub.status != "ok":
            continue
        found = theirs.get(sid)
        if found is None or found.sha != sub.sha:
            why = "not in it" if found is None else f"graded commit {found.sha[:12]} there, {sub.sha[:12]} here"
            stats.skipped.append(f"{sid}: {why}")
            continue
        changed = False
        for phase in phases:
            here = here_all[phase]
            there_path = _cache_path(other, found, phase, suite)
            there = _read_cache(there_path)
            if there is None:
                if any((other / sid / "cache").glob(f"{phase}-{sub.sha[:12]}-*.json")):
                    raise BatchError(
                        f"{other} was graded with another version of the tests or grader than {folder} "
                        "(its cache files name another suite): grade both with the same course checkout"
                    )
                continue
            runs = [(str(there_path), there)] if here is None else [("this folder", here), (str(there_path), there)]
            try:
                merged = merge_reports(runs)
            except MergeError as exc:
                stats.skipped.append(f"{sid} ({phase}): {exc}")
                continue
            write_json_atomic(_cache_path(folder, sub, phase, suite), merged.to_dict())
            parts[sid][phase] = merged
            changed = True
        if changed:
            stats.merged.append(sid)
    for sub in mine.values():
        write_result(folder, sub, parts[sub.student_id], assignment)
    return stats


def combine_phases(parts: list[GradeReport]) -> GradeReport:
    """One report from the phases of one grading (same machine, same commit): tests appended in phase order."""
    first = parts[0]
    return replace(
        first,
        tests=tuple(t for p in parts for t in p.tests),
        errors=tuple(dict.fromkeys(e for p in parts for e in p.errors)),
        flags=tuple(dict.fromkeys(f for p in parts for f in p.flags)),
        duration=round(sum(p.duration for p in parts), 3),
        visibility="all",
    )


def write_result(folder: Path, sub: Submission, parts: dict[str, GradeReport], assignment: Assignment) -> None:
    """The record every report reads: the submission facts and the merged grading (if any)."""
    graded = [parts[p] for p in PHASES if p in parts]
    report = combine_phases(graded) if graded else None
    if report is None:
        why = sub.message or ("not graded (see grade-all's failures)" if sub.status == "ok" else sub.status)
        report = GradeReport(
            assignment=assignment.id,
            title=assignment.spec.title,
            submission=str(folder / sub.student_id),
            machine=Machine(cores=0, gpu="none"),
            tests=(),
            visibility="all",
            errors=(f"{sub.status}: {why}",),
        )
    complete = sub.status == "ok" and len(graded) == len(phases_of(assignment))
    write_json_atomic(
        folder / sub.student_id / "result.json",
        {"submission": sub.to_dict(), "complete": complete, "report": report.to_dict()},
    )


@dataclass(frozen=True)
class StudentResult:
    submission: Submission
    report: GradeReport  # with the TA's line overrides applied
    complete: bool
    overrides: tuple[Override, ...] = ()  # in force for this student (grader/overrides.py)

    @property
    def points(self) -> float:
        total = next((o.points for o in self.overrides if o.line == TOTAL), None)
        return self.report.score if total is None else float(total)

    @property
    def final(self) -> float:
        return round(self.points * (1.0 - self.submission.penalty), 4)


def load_results(folder: Path, assignment: Assignment | None = None) -> list[StudentResult]:
    """Every graded student's record; with ``assignment``, checked against it and with the TA's overrides applied."""
    out = []
    log = read_overrides(folder) if assignment is not None else []
    for sub in load_submissions(folder, assignment.id if assignment is not None else None):
        path = Path(folder) / sub.student_id / "result.json"
        if path.is_file():
            data = json.loads(path.read_text())
            sub = Submission.from_dict(data["submission"])
            report = GradeReport.from_dict(data["report"])
            mine = current_overrides(log, sub.student_id)
            if mine:
                report = apply_overrides(report, mine, assignment)  # type: ignore[arg-type]
            out.append(StudentResult(sub, report, data["complete"], tuple(mine[k] for k in sorted(mine))))
    return out
