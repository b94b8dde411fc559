"""Gradescope autograder results (`/autograder/results/results.json`).

Spec (Gradescope autograder docs, "Specifications"): top level `score`, `execution_time`, `output`,
`stdout_visibility`, `tests[]`, `leaderboard[]`; each test `score`, `max_score`, `status`
(passed|failed), `name`, `number`, `output`, `tags`, `visibility`
(hidden|after_due_date|after_published|visible); a leaderboard entry `{name, value, order}`.

Students read results.json, so it is built from the student view of the report: hidden tests
get opaque names and generic messages and are shown only once grades are published. The full
report goes to stdout, which Gradescope shows to instructors only.

Gradescope has no "graded later": a test that could not be judged there (a GPU speed line
without a GPU, a CPU speed line on fewer free cores than it needs) is *pending*, written as 0 of
0 points with no pass/fail status (Gradescope colours neither) and an output saying why and
where it is graded, so the score is the full total of what was judged, never a silent zero.
"""

from __future__ import annotations

from typing import Any

from ..core.results import GradeReport, Status, TestRecord
from .markdown import summary

VISIBILITY = {"public": "visible", "hidden": "after_published"}


def pending_output(t: TestRecord) -> str:
    """Why a line is pending here, and where its points come from."""
    where = (
        "on the course's GPU machine"
        if t.part == "gpu"
        else "on a machine with enough free cores (Gradescope: give the autograder 2 or more vCPUs in its settings)"
    )
    why = f": {t.message}" if t.message else ""
    return f"pending, worth {t.max_score:g} points, not judged on Gradescope{why}. It is graded {where} and added later."


def gradescope_results(report: GradeReport) -> dict[str, Any]:
    shown = report.for_students()
    tests = []
    for i, t in enumerate(shown.tests, start=1):
        entry: dict[str, Any] = {
            "score": round(t.score, 4),
            "max_score": t.max_score,
            "status": "passed" if t.status is Status.passed else "failed",
            "name": t.name,
            "number": str(i),
            "output": t.message,
            "tags": [t.task, t.part, t.kind],
            "visibility": VISIBILITY.get(t.visibility, "after_published"),
        }
        if t.status is Status.deferred:
            del entry["status"]
            entry.update(max_score=0, score=0, output=pending_output(t), tags=[t.task, t.part, t.kind, "pending"])
        tests.append(entry)
    leaderboard = [
        {"name": f"{t.task} {t.part} speedup", "value": round(float(t.metrics["speedup"]), 3), "order": "desc"}
        for t in report.tests
        if t.kind == "performance" and "speedup" in t.metrics and t.status is not Status.deferred
    ]
    out: dict[str, Any] = {
        "score": round(report.score, 4),
        "execution_time": max(1, round(report.duration)),
        "output": summary(shown),
        "output_format": "md",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if leaderboard:
        out["leaderboard"] = leaderboard
    return out
