"""Collect a class: every student's repository from a roster, checked out at the deadline.

Layout of a submissions folder (`--out` of collect, `--submissions` of grade-all):

    collection.json                 assignment, deadline, roster file, when collected
    <student_id>/submission.json    who, repository URL, status, commit SHA and time, lateness, penalty
    <student_id>/repo/              the repository checked out (detached) at that commit
    <student_id>/cache/<phase>-<sha>-<suite>.json   one grading phase's GradeReport
    <student_id>/inflight-<phase>.json              a grading under way (left behind if grade-all died)
    <student_id>/result.json        the merged GradeReport plus submission facts (what reports read)
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from ..core.course import Assignment
from ..core.git import GitError, git
from ..core.results import write_text_atomic
from .policies import LatePolicy

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


def collect_one(student: Student, deadline: datetime, policy: LatePolicy, out: Path) -> Submission:
    """Clone or fetch one repository and check out the commit to grade. Never raises for the student's faults."""
    cutoff = deadline + timedelta(days=student.extension_days)
    base = Submission(student.student_id, student.name, student.repo, "ok", cutoff.isoformat())
    repo = out / student.student_id / "repo"
    try:
        if (repo / ".git").is_dir():
            git("fetch", "--quiet", "--force", "--prune", "origin", cwd=repo)
            git("remote", "set-head", "origin", "--auto", cwd=repo)
        else:
            if repo.exists():
                shutil.rmtree(repo)
            repo.parent.mkdir(parents=True, exist_ok=True)
            git("clone", "--quiet", "--no-checkout", "--", student.repo, str(repo))
    except GitError as exc:
        gone = any(s in exc.stderr for s in MISSING_REPO_SIGNS)
        return replace(base, status="missing" if gone else "broken", message=exc.summary())
    try:
        head = _default_branch(repo)
        window_end = cutoff + timedelta(seconds=policy.window_seconds)
        sha = git("rev-list", "-1", f"--before={int(window_end.timestamp())}", head, cwd=repo)
        if not sha:
            return replace(base, status="no_commit", message=f"no commit on {head} before {window_end.isoformat()}")
        committed = datetime.fromisoformat(git("show", "-s", "--format=%cI", sha, cwd=repo))
        git("checkout", "--quiet", "--force", "--detach", sha, cwd=repo)
        git("clean", "-ffdxq", cwd=repo)
    except GitError as exc:
        return replace(base, status="broken", message=exc.summary(limit=300))
    late = max(0.0, (committed - cutoff).total_seconds())
    return replace(base, sha=sha, commit_time=committed.isoformat(), late_seconds=late, penalty=policy.penalty(late))


def _default_branch(repo: Path) -> str:
    for ref in ("origin/HEAD", "origin/main", "origin/master"):
        try:
            git("rev-parse", "--verify", "--quiet", ref, cwd=repo)
            return ref
        except GitError:
            continue
    raise GitError("no commits", "the repository has no commits (no origin/HEAD, main or master)")


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
