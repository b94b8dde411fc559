"""Grade every collected submission, phase by phase, cached, and resume after a crash.

Correctness phases of different students run in parallel (`--jobs`); performance phases run one
at a time afterwards, on an otherwise idle machine, because parallel timings would corrupt each
other. Each phase's result is cached under the commit SHA and a hash of the test suite (assignment,
hidden tests, solution, grader), written atomically, so a rerun skips everything already done and
a run killed at any moment loses at most the gradings in flight and never duplicates one.
Before the performance phase the staff solution's speed lines are graded once to compile the
course's own code into a cache every submission's speed worker reads, read-only (`CourseCache`), and
each submission's speed worker loads the student's code its correctness worker compiled
(`student_cache_folder`), so the speed phase compiles nothing it already did. A module that is the
released stub or does not parse has nothing to time: its speed lines fail (or, unparsable, error)
with that reason and no worker starts.

Where the worker cannot be isolated from the grader (`isolation.py`: `reduced`), a submission can
kill grade-all itself. Each grading in flight is marked on disk; a rerun grades the submissions
that were in flight when a run died first, one at a time, and a submission in flight at
`MAX_DEATHS` deaths gets an error for that phase instead of a third try: the class goes on.

With a Dask cluster (`cluster.py`) the gradings run on its workers instead, under the same phases,
cache and resume rules: timing gradings run in parallel on different machines, each alone on its
own, and GPU lines go to GPU workers.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Protocol

from ..core.course import GRADER_PACKAGE, Assignment, SubmissionLayoutError, find_module_folder
from ..core.devices import choose_backend, gpu_exclusive
from ..core.results import GradeReport, Machine, Status, TestRecord
from ..run.fingerprints import course_fingerprint
from ..run.grade import (
    CourseCache,
    GradingError,
    fill_course_cache,
    grade_submission,
    is_released_stub,
    module_findings,
    student_cache_folder,
)
from .collect import BatchError, Submission, load_submissions, write_json_atomic
from .merge import merge_reports

PHASES = {"correctness": "*.*.correctness", "performance": "*.*.performance"}
MAX_DEATHS = 2  # runs that died with a submission in flight before it is skipped with an error


class RemoteGrading(Protocol):
    """Where gradings run when not in this process: a Dask cluster (`cluster.ClusterGrading`)."""

    has_gpu: bool

    def concurrency(self, phase: str) -> int: ...

    def grade(
        self, assignment: Assignment, suite: str, folder: Path, select: list[str], gpu: str | None, phase: str
    ) -> GradeReport: ...


def suite_version(assignment: Assignment) -> str:
    """Hash of everything that decides a grade besides the student's code: tests, spec, solution, grader."""
    prints = course_fingerprint([assignment.folder, assignment.hidden_dir, assignment.solution_dir, GRADER_PACKAGE])
    digest = hashlib.sha256()
    for path in sorted(prints):
        rel = os.path.relpath(path, assignment.course_root)
        digest.update(f"{rel}\0{prints[path]}\n".encode())
    return digest.hexdigest()[:16]


def phases_of(assignment: Assignment) -> list[str]:
    has_perf = any(kind == "performance" for (_, _, kind) in assignment.spec.lines())
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
    return sorted({str(t.line) for t in report.tests if t.status is Status.deferred and (t.part != "gpu" or real_gpu)})


def _grade_phase(
    assignment: Assignment,
    folder: Path,
    sub: Submission,
    phase: str,
    suite: str,
    gpu: str | None,
    earlier: GradeReport | None = None,
    lines: list[str] | None = None,
    cluster: RemoteGrading | None = None,
    course_cache: CourseCache | None = None,
    student_cache: Path | None = None,
) -> GradeReport:
    """Grade one phase (or, given an ``earlier`` report, only its pending ``lines``, merged into it) and cache it."""
    module_folder = find_module_folder(folder / sub.student_id / "repo", assignment)
    select = lines or [PHASES[phase]]
    nothing = nothing_to_time(assignment, module_folder) if phase == "performance" else None
    if nothing is not None:
        status, why = nothing
        report = _line_report(assignment, sub, phase, folder, status, f"not timed: {why}")
    elif cluster is not None:
        report = cluster.grade(assignment, suite, module_folder, select, gpu, phase)
    else:
        report = grade_submission(
            assignment, module_folder, hidden=True, gpu=gpu, select=select, course_cache=course_cache, student_cache=student_cache
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
    flag = f"{sub.student_id} ({phase}): {message}"
    return _line_report(assignment, sub, phase, folder, Status.error, message, errors=(message,), flags=(flag,))


def nothing_to_time(assignment: Assignment, module_folder: Path) -> tuple[Status, str] | None:
    """Why a submission's speed lines need no worker, with the status a worker would give them: the
    module is the released stub (its tests fail) or does not parse (they error at import). Facts of
    the file, so every speed test would end the same way. None for anything else."""
    module = module_folder / assignment.spec.module_file
    findings = module_findings(module, assignment.stub_module)
    if not findings:
        return None
    return (Status.failed if is_released_stub(module, assignment.stub_module) else Status.error), findings[0]


def _line_report(
    assignment: Assignment,
    sub: Submission,
    phase: str,
    folder: Path,
    status: Status,
    message: str,
    errors: tuple[str, ...] = (),
    flags: tuple[str, ...] = (),
) -> GradeReport:
    """A phase's report written by grade-all itself, one record per rubric line, each with ``message``."""
    kind = PHASES[phase].rsplit(".", 1)[1]
    tests = tuple(
        TestRecord(name=f"{task}.{part} {k}", task=task, part=part, kind=k, status=status, score=0.0, max_score=points,
                   message=message, nodeid=f"{task}.{part}.{k}")
        for (task, part, k), points in assignment.spec.lines().items()
        if k == kind and points > 0
    )  # fmt: skip
    return GradeReport(
        assignment=assignment.id,
        title=assignment.spec.title,
        submission=str(folder / sub.student_id),
        machine=Machine(cores=0, gpu="none"),
        tests=tests,
        visibility="all",
        errors=errors,
        flags=flags,
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
    cluster: RemoteGrading | None = None,
) -> BatchStats:
    """Grade every collected submission; see the module docstring for phases, caching and resumption."""
    folder = Path(folder)
    subs = [s for s in load_submissions(folder, assignment.id) if s.status == "ok"]
    suite = suite_version(assignment)
    try:
        real_gpu = (cluster is not None and cluster.has_gpu) or choose_backend(gpu)[0] == "cuda"
    except ValueError as exc:
        raise BatchError(str(exc)) from None
    stats = BatchStats()
    earlier: dict[tuple[str, str], GradeReport] = {}  # cached phases with pending lines to judge now
    reports: dict[str, dict[str, GradeReport]] = {s.student_id: {} for s in subs}
    phases = phases_of(assignment)
    scratch = tempfile.TemporaryDirectory(prefix="parlab-numba-cache-")  # compiled code; removed at the end (or when collected)
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
        if cluster is not None:  # the cluster's resources keep timings alone on their machines
            workers = cluster.concurrency(phase)
        course_cache = None
        if phase == "performance" and cluster is None and (todo or suspects):
            course_cache = _course_cache(assignment, Path(scratch.name), gpu)

        def run(
            sub: Submission, phase: str = phase, course_cache: CourseCache | None = course_cache
        ) -> tuple[Submission, GradeReport | None, float]:
            started = datetime.now(timezone.utc)
            marker = _inflight_path(folder, sub, phase)
            write_json_atomic(marker, {"attempts": _deaths(folder, sub, phase) + 1, "started": started.isoformat()})
            before = earlier.get((sub.student_id, phase))
            lines = _pending_lines(before, real_gpu) if before is not None else None
            own = None if cluster is not None else student_cache_folder(Path(scratch.name) / "submissions", sub.student_id)
            try:
                report = _grade_phase(assignment, folder, sub, phase, suite, gpu, before, lines, cluster, course_cache, own)
            except GradingError as exc:
                if not exc.usage:  # the course itself changed: stop, the TA must restore it, then rerun
                    raise
                stats.failures.append(f"{sub.student_id} ({phase}): {exc}")
                return sub, None, 0.0
            except SubmissionLayoutError as exc:
                stats.failures.append(f"{sub.student_id} ({phase}): {exc}")
                return sub, None, 0.0
            except BatchError:  # the class cannot go on (a cluster worker with another course version): stop, say why
                raise
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
    scratch.cleanup()
    for sub in load_submissions(folder):
        write_result(folder, sub, reports.get(sub.student_id, {}), assignment)
    return stats


def _course_cache(assignment: Assignment, scratch: Path, gpu: str | None) -> CourseCache | None:
    """The course's code compiled once for the speed phase (`run.grade.CourseCache`), or None: then
    every submission's worker compiles it, as `grader grade` does (also with PARLAB_NUMBA_CACHE=off)."""
    try:
        return fill_course_cache(assignment, scratch / "numba", gpu)
    except GradingError as exc:
        if not exc.usage:  # the course changed meanwhile: the class cannot be graded on
            raise
        return None


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
