"""A test that sets itself a short limit (`@pytest.mark.timeout`) is stopped at that limit, recorded as
`timeout` with that limit in its message, and the grader carries on with the other tests."""

from __future__ import annotations

import shutil
import textwrap
import time

from grader.core.course import Course
from grader.core.results import Status
from grader.run.grade import grade_submission

from ..conftest import ROOT

STUCK = """
import threading

import pytest

from grader.worker.testkit import grade


@pytest.mark.timeout(3, func_only=True)
@grade(task="amdahl", part="python", points=1)
def test_waits_forever(impl):
    threading.Event().wait()  # a deadlock: nobody will ever set it


@grade(task="amdahl", part="python", points=1)
def test_after_the_stuck_one(impl):
    assert impl.amdahl_speedup(0.5, 2) > 1
"""


def test_a_test_with_its_own_short_limit_times_out_quickly_and_alone(tmp_path, a1):
    root = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / a1.id, root / "assignments" / a1.id)
    (root / "assignments" / a1.id / "test_stuck.py").write_text(textwrap.dedent(STUCK))
    (root / "solutions" / a1.id).mkdir(parents=True)
    shutil.copy(a1.solution_dir / f"{a1.spec.module}.py", root / "solutions" / a1.id)
    assignment = Course(root).resolve(a1.id)
    started = time.monotonic()
    report = grade_submission(assignment, a1.solution_dir, hidden=False, gpu="cudasim", select=["amdahl"])
    tests = {t.name: t for t in report.tests}
    stuck = tests["test_waits_forever"]
    assert stuck.status is Status.timeout and "3 s limit" in stuck.message, stuck
    assert tests["test_after_the_stuck_one"].status is Status.passed
    assert time.monotonic() - started < a1.spec.test_timeout  # never waited for the spec's own limit
