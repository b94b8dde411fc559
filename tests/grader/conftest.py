"""Fixtures of the grader's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def known_grades(tmp_path_factory) -> Path:
    """Where `notebook_routes.grader_correctness` caches: shared by the xdist workers of one session."""
    return tmp_path_factory.getbasetemp().parent / "parlab-known-grades"
