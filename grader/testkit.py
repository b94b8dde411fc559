"""What an assignment's tests import: the `grade` mark, the checks and the hidden-input generator.

A thin re-export of `grader.worker.testkit`, which runs inside the sandboxed worker next to the
student's code (see docs/authoring.md for each name).
"""

from .worker.testkit import (
    HIDDEN_SEED,
    INT_TYPES,
    REAL_TYPES,
    assert_array_close,
    assert_counts,
    assert_int_equal,
    assert_race_free,
    assert_real_close,
    contention_seconds,
    defer,
    grade,
    hidden_rng,
)

__all__ = [
    "HIDDEN_SEED",
    "INT_TYPES",
    "REAL_TYPES",
    "assert_array_close",
    "assert_counts",
    "assert_int_equal",
    "assert_race_free",
    "assert_real_close",
    "contention_seconds",
    "defer",
    "grade",
    "hidden_rng",
]
