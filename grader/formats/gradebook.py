"""A class's results as files for people and systems: gradebook CSV, LMS import CSV, per-student feedback.

All read the same `StudentResult` records (`grader.batch.load_results`). Points after the late
penalty are `final`; deferred points (GPU speed graded later, say) are listed apart, never counted.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..batch import StudentResult
from ..course import Assignment
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
                "points": rep.score,
                "penalty": sub.penalty,
                "final": r.final,
                "max": assignment.spec.max_score,
                "deferred": rep.deferred_points,
                "late_hours": round(sub.late_seconds / 3600, 2),
                "commit": sub.sha,
                "commit_time": sub.commit_time,
                "flags": len(rep.flags),
            }
        )
        rows.append(row)
    return rows


def gradebook_csv(assignment: Assignment, results: list[StudentResult]) -> str:
    rows = gradebook_rows(assignment, results)
    fields = ["student_id", "name", "status", *_tasks(assignment), "points", "penalty", "final", "max", "deferred"]
    fields += ["late_hours", "commit", "commit_time", "flags"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def lms_csv(assignment: Assignment, results: list[StudentResult]) -> str:
    """Canvas gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then one assignment column.

    Rows are matched on SIS User ID (the roster's student_id); Canvas ignores the "Points Possible" row's names.
    """
    column = f"{assignment.spec.title} ({assignment.id})"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
    writer.writerow(["Points Possible", "", "", "", "", f"{assignment.spec.max_score:g}"])
    for r in results:
        writer.writerow([r.submission.name, "", r.submission.student_id, "", "", f"{r.final:g}"])
    return out.getvalue()


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
    lines += ["", f"**Final: {result.final:g} / {rep.max_score:g}** (points {rep.score:g}, penalty {sub.penalty:.0%})", ""]
    lines.append(summary(rep.for_students()).replace("## ", "## Tests: ", 1))
    return "\n".join(lines)


def write_gradebook(assignment: Assignment, results: list[StudentResult], out: Path) -> list[Path]:
    """Write gradebook.csv, lms.csv and feedback/<student_id>.md under ``out``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("gradebook.csv", gradebook_csv(assignment, results)), ("lms.csv", lms_csv(assignment, results))):
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    (out / "feedback").mkdir(exist_ok=True)
    for r in results:
        path = out / "feedback" / f"{r.submission.student_id}.md"
        path.write_text(feedback_markdown(r), encoding="utf-8")
        written.append(path)
    return written
