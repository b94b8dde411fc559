"""GitHub Classroom grading-reporter output: the `result` step output its reporter action decodes.

The reporter (classroom-resources/autograding-grading-reporter) reads, for each runner id X in its
`runners` input, the environment variable `X_RESULTS` holding base64 of
`{"version": 1, "status": "pass|fail|error", "max_score": N, "tests": [{name, status, score, ...}]}`.
It records `sum(tests[].score)` of `max_score` as the total, but its log table shows
`passed tests / all tests * max_score`, and marks each test ✅ (pass) or ❌. The two agree only when
every test is worth the same, so each rubric line becomes one reporter test per point (per unit,
when a line's points are fractional): a line that earned 2.4 of 3 shows ✅✅❌ and adds 2 (the
reporter counts whole units; the grader's own report keeps 2.4).

The maximum is always the assignment's total, busy runner or idle: a pending line (GPU speed
without a GPU, CPU speed on a runner too busy to judge) is in it, as tests that are not passed and
say "pending"; it does not fail the job, which fails only for judged lines that lost points.
"""

from __future__ import annotations

import base64
import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..core.results import GradeReport, Status

FORMAT_VERSION = 1


def _unit(points: list[float]) -> Fraction:
    """The largest point value every rubric line is a whole number of (1 for integer points)."""
    fractions = [Fraction(p).limit_denominator(1000) for p in points if p > 0]
    if not fractions:
        return Fraction(1)
    denominator = math.lcm(*(f.denominator for f in fractions))
    return Fraction(math.gcd(*(int(f * denominator) for f in fractions)), denominator)


def classroom_result(report: GradeReport) -> dict[str, Any]:
    lines = report.for_students().lines()  # hidden tests as students may see them, whoever called
    unit = _unit([lr.max_score for lr in lines])
    tests: list[dict[str, Any]] = []
    failed = False
    for lr in lines:
        top, earned, records = lr.max_score, lr.score, lr.records
        n = round(Fraction(top).limit_denominator(1000) / unit)
        got = 0 if lr.pending else min(n, math.floor(earned / float(unit) + 1e-9))
        failed |= bool(lr.bad) and not lr.pending
        detail = lr.detail or f"{earned:g}/{top:g}"
        label = str(lr.line)
        for i in range(n):
            passed = i < got
            tests.append(
                {
                    "name": f"{label} point {i + 1}/{n}" + ("" if passed else f": {detail}"),
                    "status": "pass" if passed else "fail",
                    "score": float(unit) if passed else 0,
                    "max_score": float(unit),
                    "message": detail,
                    "test_code": "",
                    "filename": "",
                    "line_no": 0,
                    "duration": round(sum(t.duration for t in records) * 1000 / max(n, 1)),
                }
            )
    if report.errors and all(t.status is not Status.passed for t in report.tests):
        status = "error"  # nothing could run (no module, say): the reporter shows the error
    else:
        status = "fail" if failed else "pass"
    max_score = float(sum(t["max_score"] for t in tests))
    return {"version": FORMAT_VERSION, "status": status, "max_score": max_score, "tests": tests}


def encode(result: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(result, separators=(",", ":")).encode()).decode()


def write_step_output(report: GradeReport, path: Path, name: str = "result") -> None:
    """Append `result=<base64>` to a GitHub Actions step-output file ($GITHUB_OUTPUT)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{name}={encode(classroom_result(report))}\n")
