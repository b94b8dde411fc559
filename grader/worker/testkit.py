"""What assignment tests import: the `grade` marker, deferral, partial credit and array checks.

A graded test reads like a normal pytest test::

    @grade("fourier", "cpu", points=1)
    def test_small(impl, reference):
        x = ...
        assert_array_close(impl.fourier_cpu(x, 8), reference.fourier_serial(x, 8))

Messages from these checks are what students read, so they say what is wrong and where, in one
line, without dumping whole arrays.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from . import prange_trace

HIDDEN_SEED = secrets.randbits(32)  # drawn afresh in every grading worker, never printed


def hidden_rng(salt: int) -> np.random.Generator:
    """Inputs for hidden tests: from a seed students cannot know, new in every grading run; each
    test passes its own ``salt`` so its inputs do not depend on which other tests ran."""
    return np.random.default_rng([HIDDEN_SEED, salt])


def grade(task: str, part: str = "python", kind: str = "correctness", points: float = 1.0):
    """Tie a test to a rubric line of the spec: task, part (python|cpu|gpu), kind, and its points."""
    return pytest.mark.grade(task=task, part=part, kind=kind, points=points)


class Deferred(pytest.skip.Exception):
    """Raised when this machine cannot judge the test (no GPU, one core). Never counted as passed."""


def defer(reason: str) -> None:
    raise Deferred(reason, _use_item_location=True)


@dataclass
class Grading:
    """Per-test handle a test uses to award partial credit and attach metrics to its record."""

    fraction: float | None = None
    message: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)

    def award(self, fraction: float, message: str = "", **metrics: Any) -> None:
        if not 0.0 <= fraction <= 1.0 or fraction != fraction:
            raise ValueError(f"fraction must be within [0, 1], got {fraction}")
        self.fraction = float(fraction)
        self.message = message
        self.metrics.update(metrics)

    def metric(self, **metrics: Any) -> None:
        self.metrics.update(metrics)


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return repr(value)


# Exact types a number may have. An object whose __eq__ always answers True (or a float subclass
# doing the same) would pass `result == pytest.approx(x)`; it cannot pass a check on the exact type.
REAL_TYPES = (float, int, np.float64, np.float32, np.int64, np.int32)
INT_TYPES = (int, np.int64, np.int32)


def lost_or_doubled(got: float, want: float) -> str:
    """The likely cause when a total of positive parts (counts, positive terms) comes out wrong."""
    if got < want:
        return (
            " — less than the true total: updates were lost. Threads that add to the same counter or sum at "
            "once overwrite each other's additions (each reads, adds and writes back); give each thread its own "
            "partial result and combine them at the end (privatization), or use an atomic add "
            "(cuda.atomic.add on a GPU)"
        )
    if got > want:
        return (
            " — more than the true total: something was counted twice (overlapping chunks, a thread doing "
            "another's share too, or a result not reset between calls)"
        )
    return ""


def assert_real_close(
    actual: Any,
    expected: float,
    *,
    rel: float = 1e-9,
    abs: float = 0.0,
    what: str = "result",
    reveal: bool = True,
    total: bool = False,
) -> None:
    """A real number (exact built-in or NumPy type, not a subclass) close to ``expected``.

    ``total=True``: the result adds up positive parts, so a shortfall means lost updates (said so)."""
    if type(actual) not in REAL_TYPES:
        raise AssertionError(f"{what} should be a number (float or int), got {type(actual).__name__}")
    value = float(actual)
    if not math.isclose(value, expected, rel_tol=rel, abs_tol=abs):
        cause = lost_or_doubled(value, expected) if total else ""
        raise AssertionError(f"{what} = {value:.10g}" + (f", expected {expected:.10g}" if reveal else " is wrong") + cause)


def assert_int_equal(actual: Any, expected: int, *, what: str = "result", reveal: bool = True, total: bool = False) -> None:
    """An integer (exact type) equal to ``expected``; ``total=True`` as for `assert_real_close`."""
    if type(actual) not in INT_TYPES:
        raise AssertionError(f"{what} should be an int, got {type(actual).__name__}")
    if int(actual) != expected:
        cause = lost_or_doubled(int(actual), expected) if total else ""
        raise AssertionError(f"{what} = {int(actual)}" + (f", expected {expected}" if reveal else " is wrong") + cause)


def assert_counts(actual: Any, expected: np.ndarray, *, what: str = "counts", reveal: bool = True) -> None:
    """A histogram (or any array of counts): exact type, dtype and shape, then every count, with the
    likely cause when they differ: counts lost (a race), counted twice, or put under the wrong index."""
    expected = np.asarray(expected)
    if type(actual) is not np.ndarray:
        raise AssertionError(f"{what} should be a numpy.ndarray, got {type(actual).__name__}")
    if actual.dtype != expected.dtype:
        raise AssertionError(f"{what} should be {expected.dtype} counts, got {actual.dtype}")
    if actual.shape != expected.shape:
        raise AssertionError(f"{what} should hold {expected.size} counts, got shape {actual.shape}")
    wrong = actual != expected
    if not wrong.any():
        return
    i = _first(wrong)
    got_total, want_total = int(actual.sum()), int(expected.sum())
    first = f"; first at index {i}" + (f": got {int(actual[i])}, expected {int(expected[i])}" if reveal else "")
    if (actual < 0).any():  # a sum over garbage says nothing about lost updates
        cause = (
            " — some counts are negative: counters that were never set to zero (np.zeros, not np.empty; under "
            "the GPU simulator new memory starts as the most negative number)"
        )
    else:
        cause = lost_or_doubled(got_total, want_total) or (
            " — every value was counted once, but some under the wrong index: check how the index is computed"
        )
    raise AssertionError(
        f"{what}: {int(wrong.sum())} of {wrong.size} counts wrong{first} (total {got_total} for {want_total} values){cause}"
    )


def assert_array_close(
    actual: Any,
    expected: np.ndarray,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    what: str = "result",
    reveal: bool = True,
) -> None:
    """Check type, shape, dtype, NaNs and values against an expected array, with a one-line verdict.

    Tolerances default to what the dtype can promise after a reordered float64 or float32 sum.
    With ``reveal=False`` (hidden tests) the message names positions but not expected values.
    """
    expected = np.asarray(expected)
    if hasattr(actual, "get") and not isinstance(actual, np.ndarray):  # CuPy array -> host
        actual = actual.get()
    if type(actual) is not np.ndarray:  # exactly: a subclass could redefine comparisons
        raise AssertionError(f"{what} should be a numpy.ndarray, got {type(actual).__name__}")
    if actual.shape != expected.shape:
        raise AssertionError(f"{what} has shape {actual.shape}, expected {expected.shape}")
    if actual.dtype != expected.dtype:
        raise AssertionError(f"{what} has dtype {actual.dtype}, expected {expected.dtype}")
    if np.issubdtype(expected.dtype, np.floating):
        eps = np.finfo(expected.dtype).eps
        rtol = 1e3 * eps if rtol is None else rtol
        atol = 1e3 * eps if atol is None else atol
        nan_actual, nan_expected = np.isnan(actual), np.isnan(expected)
        bad_nan = nan_actual != nan_expected
        if bad_nan.any():
            i = _first(bad_nan)
            hint = (
                " (NaN where a number belongs usually marks an element nothing wrote: a loop iteration or "
                "thread that never wrote its element, since outputs the checks prepare and, under the GPU "
                "simulator, new device and shared memory start as NaN; on a GPU also a read of shared memory "
                "before cuda.syncthreads())"
                if nan_actual.any() and not nan_expected[bad_nan].any()
                else ""
            )
            raise AssertionError(
                f"{what} has {int(bad_nan.sum())} unexpected NaN mismatch(es); first at index {i}"
                + (f": got {_fmt(actual[i])}" if reveal else "")
                + hint
            )
        with np.errstate(invalid="ignore", over="ignore"):
            wrong = ~np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        wrong = actual != expected
    if wrong.any():
        i = _first(wrong)
        detail = f": got {_fmt(actual[i])}, expected {_fmt(expected[i])}" if reveal else ""
        raise AssertionError(f"{int(wrong.sum())} of {wrong.size} elements of {what} wrong; first at index {i}{detail}")


def _first(mask: np.ndarray) -> int | tuple[int, ...]:
    idx = np.argwhere(mask)[0]
    return int(idx[0]) if idx.size == 1 else tuple(int(v) for v in idx)


BACKSTOP_SHARE = 0.25  # of a contention test's time, once `assert_race_free` has judged the loops


def assert_race_free(fn: Any, *args: Any, what: str = "") -> bool:
    """Fail if ``fn(*args)``, run with its prange loops traced (`grader.worker.prange_trace`), lets two
    threads share an array element one of them writes. The same verdict in every run, however busy
    the machine: use small inputs (the trace runs the loops as plain Python) and keep a timed
    contention test after it for code the trace cannot follow (which passes here).

    Returns whether the trace followed the function through its parallel loops; see
    `contention_seconds` for what that changes."""
    verdict = prange_trace.trace(fn, *args)
    if verdict.conflict is not None:
        raise AssertionError(verdict.conflict.describe(what or getattr(fn, "__name__", "the function")))
    return verdict.followed


def contention_seconds(full: float, traced: bool) -> float:
    """How long a timed contention test calls the function: ``full`` where the trace could not judge
    its loops (the timed test is then the only judge, and its budget was measured to catch the
    known races in at least 19 of 20 gradings), `BACKSTOP_SHARE` of it where the trace did (the
    timed calls are then a backstop for what plain Python cannot show)."""
    return full if not traced else full * BACKSTOP_SHARE
