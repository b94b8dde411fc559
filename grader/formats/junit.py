"""JUnit XML, the report CI dashboards read (GitLab's test report, Jenkins, Azure, …): one test case per test.

Always the student view (`GradeReport.for_students`): dashboards are what students see. JUnit knows
passed, failure, error and skipped, and no "pending": a line that could not be judged on this machine
is written as skipped with type "pending" and a message that starts with PENDING, so no dashboard
counts it as passed or failed. A partial speed line is a failure whose message gives its points.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..core.results import GradeReport, Status, TestRecord, write_text_atomic

FAILURE = {Status.failed, Status.partial}
ERROR = {Status.error, Status.timeout}


def junit_xml(report: GradeReport) -> str:
    shown = report.for_students()
    tests = list(shown.tests)
    suites = ET.Element("testsuites", name=f"parlab {shown.assignment}")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=shown.assignment,
        tests=str(len(tests)),
        failures=str(sum(t.status in FAILURE for t in tests)),
        errors=str(sum(t.status in ERROR for t in tests) + len(shown.errors)),
        skipped=str(sum(t.status is Status.deferred for t in tests)),
        time=f"{sum(t.duration for t in tests):.3f}",
        timestamp=shown.graded_at,
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("points", f"{shown.score:g}"),
        ("max_points", f"{shown.gradable_max:g}"),
        ("pending_points", f"{shown.deferred_points:g}"),
        ("machine", shown.machine.describe()),
    ):
        ET.SubElement(props, "property", name=name, value=value)
    for problem in shown.errors:  # outside any one test (no module, say): a case of its own
        case = ET.SubElement(suite, "testcase", classname=f"{shown.assignment}.submission", name="submission")
        ET.SubElement(case, "error", message=problem[:300], type="submission").text = problem
    for t in tests:
        _case(suite, shown.assignment, t)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _case(suite: ET.Element, assignment: str, t: TestRecord) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=f"{assignment}.{t.task}.{t.part}", name=f"{t.kind}: {t.name}", time=f"{t.duration:.3f}"
    )
    points = f"{t.score:g}/{t.max_score:g} points"
    first = (t.message.splitlines() or [""])[0][:300]
    if t.status is Status.deferred:
        ET.SubElement(case, "skipped", type="pending", message=f"PENDING, not a pass or a zero: {first}"[:300])
    elif t.status in FAILURE:
        ET.SubElement(case, "failure", type=t.status.value, message=f"{t.status.value}, {points}: {first}"[:300]).text = t.message
    elif t.status in ERROR:
        ET.SubElement(case, "error", type=t.status.value, message=f"{t.status.value}: {first}"[:300]).text = t.message
    if t.message and t.status is Status.passed:
        ET.SubElement(case, "system-out").text = f"{points}: {t.message}"


def write_junit(report: GradeReport, path: Path) -> None:
    write_text_atomic(path, junit_xml(report))
