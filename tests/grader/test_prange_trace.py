"""The prange trace finds races by access log, the same way in every run, and stays quiet where numba
makes sharing safe (reductions, private arrays, rows per thread, loops that run serially)."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from numba import get_num_threads, get_thread_id, njit, prange

from grader.testkit import assert_race_free, contention_seconds
from grader.worker import prange_trace
from grader.worker.prange_trace import trace
from grader.worker.testkit import BACKSTOP_SHARE

VALUES = np.random.default_rng(0).integers(0, 3, 1000).astype(np.int32)


@njit(parallel=True)
def racy_histogram(values, nbins):
    counts = np.zeros(nbins, dtype=np.int64)
    for i in prange(values.shape[0]):
        counts[values[i]] += 1
    return counts


@njit(parallel=True)
def rows_per_thread(values, nbins):
    local = np.zeros((get_num_threads(), nbins), dtype=np.int64)
    for i in prange(values.shape[0]):
        local[get_thread_id(), values[i]] += 1
    return local.sum(axis=0)


@njit(parallel=True)
def array_reduction(values, nbins):
    counts = np.zeros(nbins, dtype=np.int64)
    for c in prange(4):
        mine = np.zeros(nbins, dtype=np.int64)
        for i in range(c * values.shape[0] // 4, (c + 1) * values.shape[0] // 4):
            mine[values[i]] += 1
        counts += mine
    return counts


@njit(parallel=True)
def scalar_reduction(a, b):
    total = 0.0
    for i in prange(a.shape[0]):
        total += a[i] * b[i]
    return total


@njit  # no parallel=True: prange runs serially, nothing races
def serial_histogram(values, nbins):
    counts = np.zeros(nbins, dtype=np.int64)
    for i in prange(values.shape[0]):
        counts[values[i]] += 1
    return counts


@njit(parallel=True)
def in_place_smoothing(x):
    for i in prange(1, x.shape[0] - 1):
        x[i] = (x[i - 1] + x[i + 1]) / 2  # reads neighbours another thread writes
    return x


@njit(parallel=True)
def same_flag_from_every_thread(x, flag):
    for i in prange(x.shape[0]):
        if x[i] > 0:
            flag[0] = 1  # every writer writes the same value: the result does not depend on timing
    return flag[0]


@njit(parallel=True)
def last_writer_wins(x, out):
    for i in prange(x.shape[0]):
        out[0] = i  # different values: which one stays depends on timing


@njit
def _add_row(row, src):
    for j in range(row.shape[0]):
        row[j] += src[j]


@njit(parallel=True)
def shared_row_through_a_helper(A):
    row = np.zeros(A.shape[1])
    out = np.empty(A.shape[0])
    for i in prange(A.shape[0]):
        row[:] = 0.0
        _add_row(row, A[i])
        out[i] = row.sum()
    return out


@njit(parallel=True)
def private_row_through_a_helper(A):
    out = np.empty(A.shape[0])
    for i in prange(A.shape[0]):
        row = np.zeros(A.shape[1])
        _add_row(row, A[i])
        out[i] = row.sum()
    return out


@njit(parallel=True)
def nested_prange_rows(A):
    out = np.zeros_like(A)
    for i in prange(A.shape[0]):
        for j in prange(A.shape[1]):  # an inner prange runs serially inside its thread
            out[i, j] = 2 * A[i, j]
    return out


@njit(parallel=True)
def module_attribute_prange(values, nbins):
    counts = np.zeros(nbins, dtype=np.int64)
    for i in numba.prange(values.shape[0]):
        counts[values[i]] += 1
    return counts


@njit(parallel=True)
def fancy_scatter(values, nbins):
    counts = np.zeros(nbins, dtype=np.int64)
    for c in prange(4):
        idx = values[c * 10 : c * 10 + 10]
        counts[idx] = counts[idx] + 1  # a gather and a scatter into bins other chunks hit too
    return counts


@njit(parallel=True)
def shared_cursors_from_a_copy(values, nbins):
    """a7's racy scatter: one cursor per bin, copied from the offsets before the loop, moved by every thread."""
    starts = np.zeros(nbins + 1, dtype=np.int64)
    for i in range(values.shape[0]):
        starts[values[i] + 1] += 1
    for b in range(nbins):
        starts[b + 1] += starts[b]
    fill = starts[:-1].copy()
    order = np.empty(values.shape[0], dtype=np.int64)
    for i in prange(values.shape[0]):
        order[fill[values[i]]] = i
        fill[values[i]] += 1
    return order


@njit(parallel=True)
def shared_counts_from_astype(values, nbins):
    counts = np.zeros(nbins, dtype=np.int32).astype(np.int64)
    for i in prange(values.shape[0]):
        counts[values[i]] += 1
    return counts


@njit(parallel=True)
def private_copy_per_iteration(A):
    out = np.empty(A.shape[0])
    for i in prange(A.shape[0]):
        row = A[i].copy()  # made inside the iteration: its own
        row[0] = i
        out[i] = row.sum()
    return out


@pytest.mark.parametrize(
    "fn, args",
    [
        (racy_histogram, (VALUES, 3)),
        (shared_cursors_from_a_copy, (VALUES, 3)),
        (shared_counts_from_astype, (VALUES, 3)),
        (in_place_smoothing, (np.arange(40.0) ** 2,)),
        (last_writer_wins, (np.ones(40), np.zeros(1))),
        (shared_row_through_a_helper, (np.ones((12, 5)),)),
        (module_attribute_prange, (VALUES, 3)),
        (fancy_scatter, (VALUES, 3)),
    ],
)
def test_races_are_found_with_the_element_and_the_threads(fn, args):
    first = trace(fn, *args)
    assert first.conflict is not None, first.error
    again = trace(fn, *args)
    assert again.conflict == first.conflict  # the same verdict, word for word, in every run
    message = first.conflict.describe(fn.__name__)
    assert "races" in message and "thread" in message and "prange" in message
    with pytest.raises(AssertionError, match="races"):
        assert_race_free(fn, *args)


@pytest.mark.parametrize(
    "fn, args",
    [
        (rows_per_thread, (VALUES, 3)),
        (array_reduction, (VALUES, 3)),
        (scalar_reduction, (np.ones(100), np.ones(100))),
        (serial_histogram, (VALUES, 3)),
        (same_flag_from_every_thread, (np.ones(40), np.zeros(1))),
        (private_row_through_a_helper, (np.ones((12, 5)),)),
        (nested_prange_rows, (np.ones((8, 6)),)),
        (private_copy_per_iteration, (np.ones((12, 5)),)),
    ],
)
def test_what_numba_makes_safe_is_not_a_race(fn, args):
    verdict = trace(fn, *args)
    assert verdict.error == "" and verdict.conflict is None, verdict
    np.testing.assert_allclose(verdict.result, fn(*args))  # the traced run computes what numba computes
    assert_race_free(fn, *args)


def test_the_message_names_the_loop_and_the_array_in_the_students_words():
    message = trace(racy_histogram, VALUES, 3).conflict.describe("histogram_cpu")
    loop = racy_histogram.py_func.__code__.co_firstlineno + 3  # def, counts = ..., for ...
    assert f"the prange loop at line {loop} races" in message
    assert "counts[" in message and f"(allocated at line {loop - 1})" in message
    assert "np.zeros" not in message  # line numbers, not the student's text (see _where)
    named = trace(in_place_smoothing, np.arange(40.0) ** 2).conflict.describe("smooth")
    assert "x[" in named  # an argument is named by its parameter


def test_the_callers_arrays_are_left_alone():
    x = np.arange(40.0) ** 2
    trace(in_place_smoothing, x)
    assert np.array_equal(x, np.arange(40.0) ** 2)


def test_code_the_trace_cannot_follow_gives_no_verdict_and_passes():
    @njit(parallel=True)
    def raises_in_python(x):
        out = np.empty_like(x)
        for i in prange(x.shape[0]):
            out[i] = undefined_name  # noqa: F821 - fails when run as Python
        return out

    verdict = trace(raises_in_python, np.ones(4))
    assert verdict.conflict is None and "NameError" in verdict.error
    assert_race_free(raises_in_python, np.ones(4))
    assert trace(len, [1]).error  # not a Python or numba function


def test_a_trace_that_runs_out_of_time_gives_no_verdict(monkeypatch):
    monkeypatch.setattr(prange_trace, "TRACE_BUDGET_S", -1.0)

    def spins(x):
        try:
            for _ in prange(3):
                pass
        except Exception:  # noqa: BLE001 - student code swallowing errors cannot swallow the deadline
            return "swallowed"

    verdict = trace(njit(parallel=True)(spins), np.ones(3))
    assert verdict.conflict is None and "TraceTooSlow" in verdict.error


_COUNTERS = {"racy": racy_histogram}  # reached through a dict: the trace cannot rebuild it


def histogram_through_a_table(values, nbins):
    return _COUNTERS["racy"](values, nbins)


def test_only_a_trace_that_followed_the_loops_shortens_the_timed_contention_test():
    assert trace(racy_histogram, VALUES, 3).loops == 1
    assert trace(rows_per_thread, VALUES, 3).followed
    assert assert_race_free(rows_per_thread, VALUES, 3) is True
    assert contention_seconds(4.0, True) == 4.0 * BACKSTOP_SHARE < 4.0
    # Parallel work the trace cannot see (compiled code reached through a dict, a serial-only
    # function, code that fails as Python): no verdict, and the timed test keeps its whole budget.
    for fn, args in [
        (histogram_through_a_table, (VALUES, 3)),
        (serial_histogram, (VALUES, 3)),
    ]:
        assert not trace(fn, *args).followed
        assert assert_race_free(fn, *args) is False
    assert contention_seconds(4.0, False) == 4.0
