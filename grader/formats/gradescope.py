"""Gradescope autograder results (`/autograder/results/results.json`).

Spec (Gradescope autograder docs, "Specifications"): top level `score`, `execution_time`, `output`,
`stdout_visibility`, `tests[]`, `leaderboard[]`; each test `score`, `max_score`, `status`
(passed|failed), `name`, `number`, `output`, `tags`, `visibility`
(hidden|after_due_date|after_published|visible); a leaderboard entry `{name, value, order}`.

Students read results.json, so it is built from the student view of the report: hidden tests
get opaque names and generic messages and are shown only once grades are published. The full
report goes to stdout, which Gradescope shows to instructors only.
"""

from __future__ import annotations

from typing import Any

from ..results import GradeReport, Status
from .markdown import summary

VISIBILITY = {"public": "visible", "hidden": "after_published"}


def gradescope_results(report: GradeReport) -> dict[str, Any]:
    shown = report.for_students()
    tests = []
    for i, t in enumerate(shown.tests, start=1):
        output = t.message
        if t.status is Status.deferred:
            output = f"not graded here: {t.message}" if t.message else "not graded here"
        tests.append(
            {
                "score": round(t.score, 4),
                "max_score": t.max_score,
                "status": "passed" if t.status is Status.passed else "failed",
                "name": t.name,
                "number": str(i),
                "output": output,
                "tags": [t.task, t.part, t.kind],
                "visibility": VISIBILITY.get(t.visibility, "after_published"),
            }
        )
    leaderboard = [
        {"name": f"{t.task} {t.part} speedup", "value": round(float(t.metrics["speedup"]), 3), "order": "desc"}
        for t in report.tests
        if t.kind == "performance" and "speedup" in t.metrics and t.status is not Status.deferred
    ]
    out: dict[str, Any] = {
        "score": round(report.score, 4),
        "execution_time": max(1, round(report.duration)),
        "output": summary(shown),
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if leaderboard:
        out["leaderboard"] = leaderboard
    return out
