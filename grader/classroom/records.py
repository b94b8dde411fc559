"""What reports read from a graded class: each student's result, with the TA's overrides applied."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..core.course import Assignment
from ..core.results import GradeReport
from .collect import Submission, load_submissions
from .overrides import TOTAL, Override
from .overrides import apply as apply_overrides
from .overrides import current as current_overrides
from .overrides import read_log as read_overrides


@dataclass(frozen=True)
class StudentResult:
    submission: Submission
    report: GradeReport  # with the TA's line overrides applied
    complete: bool
    overrides: tuple[Override, ...] = ()  # in force for this student (grader/classroom/overrides.py)

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
