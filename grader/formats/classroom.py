"""GitHub Classroom grading-reporter output: the `result` step output its reporter action decodes.

The reporter (classroom-resources/autograding-grading-reporter) reads, for each runner id X in its
`runners` input, the environment variable `X_RESULTS` holding base64 of
`{"version": 1, "status": "pass|fail|error", "max_score": N, "tests": [{name, status, score, ...}]}`.
It totals `tests[].score` and fails the job when a runner's status is `fail` or `error`.

Deferred tests (GPU speed without a GPU, CPU speed on a machine too busy to judge) are left out,
and their points with them: the CI total covers what this runner could judge, never more.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from ..results import GradeReport, Status

FORMAT_VERSION = 1


def _status(status: Status) -> str:
    if status is Status.passed:
        return "pass"
    return "error" if status in (Status.error, Status.timeout) else "fail"


def classroom_result(report: GradeReport) -> dict[str, Any]:
    judged = [t for t in report.tests if t.status is not Status.deferred]
    tests = [
        {
            "name": f"{t.task}.{t.part}.{t.kind}: {t.name}",
            "status": _status(t.status),
            "score": round(t.score, 4),
            "max_score": t.max_score,
            "message": t.message,
            "test_code": t.nodeid,
            "filename": t.nodeid.split("::")[0].split("/")[-1],
            "line_no": 0,
            "duration": round(t.duration * 1000),  # the reporter's runners give milliseconds
        }
        for t in judged
    ]
    if report.errors and not judged:
        status = "error"
    elif all(t.status is Status.passed for t in judged):
        status = "pass"
    else:
        status = "fail"
    return {"version": FORMAT_VERSION, "status": status, "max_score": round(sum(t.max_score for t in judged), 4), "tests": tests}


def encode(result: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(result, separators=(",", ":")).encode()).decode()


def write_step_output(report: GradeReport, path: Path, name: str = "result") -> None:
    """Append `result=<base64>` to a GitHub Actions step-output file ($GITHUB_OUTPUT)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{name}={encode(classroom_result(report))}\n")
