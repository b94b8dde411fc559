"""A TA's own grades on top of the grader's: set a student's rubric line or total, saying who, when and why.

Kept in ``<submissions>/overrides.json``, an append-only log (an entry is never edited or deleted:
clearing an override is a new entry with no points). Applied whenever a class's results are read,
so re-grading, merging and re-reporting keep them; the latest entry per (student, line) wins.
The gradebook counts them per student and each student's feedback lists theirs with the reason.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from ..core.course import Assignment
from ..core.results import GradeReport, Status, TestRecord, write_text_atomic

LOG_FILE = "overrides.json"
TOTAL = "total"


class OverrideError(Exception):
    """An override that cannot be set (unknown student or line, points out of range, no reason)."""


@dataclass(frozen=True)
class Override:
    student_id: str
    line: str  # task.part.kind, or "total"
    points: float | None  # None clears an earlier override
    reason: str
    by: str
    at: str  # ISO 8601, UTC
    previous: float | None = None  # the points before this entry, for the audit trail

    def describe(self) -> str:
        was = "" if self.previous is None else f"{self.previous:g} → "
        now = "grader's points restored" if self.points is None else f"{was}{self.points:g}"
        return f"{self.line}: {now}, by {self.by} on {self.at[:10]}: {self.reason}"


def read_log(folder: Path) -> list[Override]:
    path = Path(folder) / LOG_FILE
    if not path.is_file():
        return []
    try:
        return [Override(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))]
    except (ValueError, TypeError) as exc:
        raise OverrideError(f"{path} is not an overrides log ({exc}); restore it from a backup or git") from None


def current(log: list[Override], student_id: str) -> dict[str, Override]:
    """The overrides in force for one student: the latest entry per line, cleared ones dropped."""
    latest: dict[str, Override] = {}
    for entry in log:
        if entry.student_id == student_id:
            latest[entry.line] = entry
    return {line: e for line, e in latest.items() if e.points is not None}


def line_points(report: GradeReport, line: str) -> tuple[float, float]:
    """(points, maximum) of one rubric line in a report."""
    records = [t for t in report.tests if str(t.line) == line]
    return sum(t.score for t in records), sum(t.max_score for t in records)


def _line_maxima(assignment: Assignment) -> dict[str, float]:
    """Each rubric line of the spec, ``task.part.kind``, with its points."""
    return {str(line): points for line, points in assignment.spec.lines().items()}


def apply(report: GradeReport, overrides: dict[str, Override], assignment: Assignment) -> GradeReport:
    """The report with each overridden line replaced by one record holding the TA's points and reason."""
    maxima = _line_maxima(assignment)
    tests = list(report.tests)
    for line, entry in sorted(overrides.items()):
        if line == TOTAL:
            continue
        task, part, kind = line.split(".")
        top = line_points(report, line)[1] or maxima.get(line, 0.0)
        points = min(float(entry.points or 0.0), top)
        status = Status.passed if points >= top else Status.partial if points > 0 else Status.failed
        record = TestRecord(
            name=f"{line} (set by {entry.by})",
            task=task,
            part=part,
            kind=kind,
            status=status,
            score=points,
            max_score=top,
            message=f"set by {entry.by} on {entry.at[:10]}: {entry.reason}",
            visibility="public",
            provenance={"override": asdict(entry)},
        )
        first = next((i for i, t in enumerate(tests) if str(t.line) == line), len(tests))
        tests = [t for t in tests if str(t.line) != line]
        tests.insert(min(first, len(tests)), record)
    return replace(report, tests=tuple(tests))


def add(
    folder: Path,
    assignment: Assignment,
    report: GradeReport | None,
    student_id: str,
    line: str,
    points: float | None,
    reason: str,
    by: str | None = None,
) -> Override:
    """Check and append one entry to the log; returns it."""
    if not reason.strip():
        raise OverrideError("say why (--reason): the student and the other TAs will read it")
    maxima = _line_maxima(assignment)
    if line != TOTAL and line not in maxima:
        raise OverrideError(f"no rubric line {line!r} in {assignment.id}; lines: {', '.join(sorted(maxima))}, or {TOTAL}")
    top = assignment.spec.max_score if line == TOTAL else maxima[line]
    if points is not None and not 0 <= points <= top:
        raise OverrideError(f"{line} is worth 0 to {top:g} points, not {points:g}")
    log = read_log(folder)
    before = current(log, student_id).get(line)
    if before is not None:
        previous: float | None = before.points
    elif report is None:
        previous = None
    elif line == TOTAL:
        previous = report.score
    else:
        previous = line_points(report, line)[0]
    entry = Override(
        student_id=student_id,
        line=line,
        points=points,
        reason=reason.strip(),
        by=by or _who(),
        at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        previous=previous,
    )
    write_text_atomic(Path(folder) / LOG_FILE, json.dumps([asdict(e) for e in [*log, entry]], indent=2) + "\n")
    return entry


def _who() -> str:
    for var in ("PARLAB_TA", "GIT_AUTHOR_NAME"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
