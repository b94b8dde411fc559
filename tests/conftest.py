"""Shared fixtures for the project's own tests: the course, and submissions made to order.

Speed lines are timed with few rounds here (`PARLAB_TIMING=quick`): these tests are about decisions
(a serial submission earns no speed points, the solution earns them all, an attack is caught), not
about how precise a speedup is; `benchmarks/verdict_stability.py` measures that with full timing.
Workers inherit the variable through `devices.worker_environment`.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from grader.core.course import Course
from grader.core.devices import TIMING_ENV
from grader.core.results import Status, TestRecord

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault(TIMING_ENV, "quick")


# The test files that take longest, longest first (measured: benchmarks/README.md, "CI time"). xdist
# hands out whole files (ci/run-tests: --dist loadfile) in collection order, so the long ones start
# first and the short ones fill in around them, instead of one long file running alone at the end.
LONGEST_FIRST = [
    "tests/grader/test_otter_export.py",
    "tests/assignments/test_wrong_submissions.py",
    "tests/grader/test_nbgrader_export.py",
    "tests/grader/test_cluster.py",
    "tests/grader/test_attacks.py",
    "tests/grader/test_batch.py",
    "tests/assignments/test_validate.py",
    "tests/grader/test_isolation.py",
    "tests/grader/test_bad_submissions.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: file order kept


@pytest.fixture
def full_timing(monkeypatch):
    """For a test that asserts the solution earns *all* of a speed line's points: that is a claim
    about precision, so its gradings time with the grader's own rounds, as `grader validate` does."""
    monkeypatch.delenv(TIMING_ENV, raising=False)


def judged(record: TestRecord) -> TestRecord:
    """A speed line the test needs judged: pending (a busy or one-core machine) skips the test with
    the reason, visibly, since the code under test never ran; it never counts as passed."""
    if record.status is Status.deferred:
        pytest.skip(f"{record.line} was not judged on this machine, so the code under test did not run: {record.message}")
    return record


@pytest.fixture(scope="session")
def course() -> Course:
    return Course(ROOT)


@pytest.fixture(scope="session")
def a1(course):
    return course.resolve("a1")


@pytest.fixture
def make_submission(tmp_path, a1):
    """A submission folder: the a1 reference solution with code appended (redefining functions
    is how a test plants one bug), or an arbitrary module text with ``source=``."""

    def make(append: str = "", *, source: str | None = None, name: str = "sub") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        text = source if source is not None else (a1.solution_dir / f"{a1.spec.module}.py").read_text()
        (folder / f"{a1.spec.module}.py").write_text(text + "\n" + textwrap.dedent(append))
        return folder

    return make
