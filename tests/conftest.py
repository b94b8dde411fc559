"""Shared fixtures for the project's own tests: the course, and submissions made to order."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.core.course import Course

ROOT = Path(__file__).resolve().parent.parent


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
