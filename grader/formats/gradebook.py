"""A class's results as files for people and systems: gradebook CSV, LMS import CSV, per-student feedback.

All read the same `StudentResult` records (`grader.classroom.records.load_results`). Points after the late
penalty are `final`; pending points (a line this machine could not judge: GPU speed without a GPU,
CPU speed on a machine too busy) are listed apart, never counted, and never exported as a grade:
an LMS cell whose grade is not final yet is left blank, unless the TA asks for zeros.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from ..classroom.policies import LmsPolicy, load_lms_policy
from ..classroom.records import StudentResult
from ..core.course import Assignment
from .markdown import summary


def _tasks(assignment: Assignment) -> list[str]:
    return [t.name for t in assignment.spec.tasks]


def gradebook_rows(assignment: Assignment, results: list[StudentResult]) -> list[dict[str, object]]:
    rows = []
    for r in results:
        sub, rep = r.submission, r.report
        row: dict[str, object] = {
            "student_id": sub.student_id,
            "name": sub.name,
            "status": sub.status if sub.status != "ok" else ("graded" if r.complete else "incomplete"),
        }
        for task in _tasks(assignment):
            row[task] = round(sum(t.score for t in rep.tests if t.task == task), 4)
        row.update(
            {
                "points": r.points,
                "penalty": sub.penalty,
                "final": r.final,
                "max": assignment.spec.max_score,
                "pending": rep.deferred_points,
                "late_hours": round(sub.late_seconds / 3600, 2),
                "commit": sub.sha,
                "commit_time": sub.commit_time,
                "flags": len(rep.errors) + len(rep.flags),
                "overrides": len(r.overrides),
            }
        )
        rows.append(row)
    return rows


def gradebook_csv(assignment: Assignment, results: list[StudentResult]) -> str:
    rows = gradebook_rows(assignment, results)
    fields = ["student_id", "name", "status", *_tasks(assignment), "points", "penalty", "final", "max", "pending"]
    fields += ["late_hours", "commit", "commit_time", "flags", "overrides"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@dataclass
class LmsExport:
    """lms.csv's text, and the students whose cell it left blank (and why): what the TA must be told."""

    text: str
    pending: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    column_has_id: bool = False

    def notes(self) -> list[str]:
        out = []
        if self.pending:
            out.append(
                f"lms.csv leaves {len(self.pending)} student(s) blank whose points are still pending "
                f"({', '.join(self.pending[:10])}{' …' if len(self.pending) > 10 else ''}): grade their pending lines "
                "(e.g. on a GPU machine) and merge, or export zeros on purpose with --pending-as-zero"
            )
        if self.missing:
            out.append(
                f"lms.csv leaves {len(self.missing)} student(s) without a gradable submission blank "
                f"({', '.join(self.missing[:10])}{' …' if len(self.missing) > 10 else ''}); "
                'course.toml [lms] missing = "zero" gives them 0'
            )
        if not self.column_has_id:
            out.append(
                "lms.csv's column has no Canvas assignment id, so Canvas will create a new assignment on import: "
                "set [lms.canvas_assignment_ids] in course.toml"
            )
        return out


def lms_csv(
    assignment: Assignment, results: list[StudentResult], policy: LmsPolicy | None = None, *, pending_as_zero: bool = False
) -> LmsExport:
    """Canvas gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then one assignment column.

    Canvas matches rows on SIS User ID (the roster's student_id), ignores the "Points Possible"
    row's names, updates the assignment whose id the column title ends with, "Title (123456)", and
    leaves a blank cell's grade as it is. A student with points still pending, or (by policy) with
    nothing to grade, gets a blank cell, never a silent zero.
    """
    policy = policy or LmsPolicy()
    canvas_id = policy.canvas_id(assignment.id)
    column = f"{assignment.spec.title} ({canvas_id})" if canvas_id else assignment.spec.title
    export = LmsExport(text="", column_has_id=canvas_id is not None)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
    writer.writerow(["Points Possible", "", "", "", "", f"{assignment.spec.max_score:g}"])
    for r in results:
        sid = r.submission.student_id
        cell = f"{r.final:g}"
        if r.submission.status != "ok" and policy.missing == "blank":
            cell = ""
            export.missing.append(sid)
        elif r.report.deferred_points > 0 and not pending_as_zero:
            cell = ""
            export.pending.append(sid)
        writer.writerow([r.submission.name, "", sid, "", "", cell])
    export.text = out.getvalue()
    return export


def feedback_markdown(result: StudentResult) -> str:
    """What one student reads: their points, lateness and the student view of every test (no hidden detail)."""
    sub, rep = result.submission, result.report
    lines = [f"# Feedback for {sub.name or sub.student_id} ({sub.student_id})", ""]
    if sub.status != "ok":
        lines += [f"No submission could be graded: {sub.status} ({sub.message}).", ""]
        return "\n".join(lines)
    lines.append(f"Graded commit `{sub.sha[:12]}` from {sub.commit_time} (your deadline: {sub.deadline}).")
    if sub.late_seconds > 0:
        penalty = f"a late penalty of {sub.penalty:.0%}" if sub.penalty else "within the grace period: no penalty"
        lines.append(f"It came {sub.late_seconds / 3600:.1f} hours after the deadline: {penalty}.")
    lines += ["", f"**Final: {result.final:g} / {rep.max_score:g}** (points {result.points:g}, penalty {sub.penalty:.0%})", ""]
    if result.overrides:
        lines += ["Set by your teaching staff:", ""] + [f"- {o.describe()}" for o in result.overrides] + [""]
    lines.append(summary(rep).replace("## ", "## Tests: ", 1))
    return "\n".join(lines)


def write_gradebook(
    assignment: Assignment, results: list[StudentResult], out: Path, *, pending_as_zero: bool = False
) -> tuple[list[Path], list[str]]:
    """Write gradebook.csv, lms.csv and feedback/<student_id>.md under ``out``; returns the paths and notes for the TA."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    lms = lms_csv(assignment, results, load_lms_policy(assignment.course_root), pending_as_zero=pending_as_zero)
    for name, text in (("gradebook.csv", gradebook_csv(assignment, results)), ("lms.csv", lms.text)):
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    (out / "feedback").mkdir(exist_ok=True)
    for r in results:
        path = out / "feedback" / f"{r.submission.student_id}.md"
        path.write_text(feedback_markdown(r), encoding="utf-8")
        written.append(path)
    return written, lms.notes()
