"""What a student reads when something is wrong: what, where, and the likely cause.

One test per message class: lost updates (a race on the CPU), a data race under the GPU simulator,
poison (memory no thread wrote), an unguarded thread index, and a speed line that falls short.
The GPU ones grade a known-wrong submission with the public tests, as `grader test` would.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.core.results import Status
from grader.core.spec import PerformanceSpec
from grader.run.grade import grade_submission
from grader.testkit import assert_counts, assert_int_equal, assert_real_close
from grader.worker.speed_verdict import decide_cpu

from ..conftest import ROOT
from .test_scoring_and_timing import measurement


def test_counts_that_went_missing_are_called_lost_updates():
    want = np.array([500, 500], dtype=np.int64)
    with pytest.raises(AssertionError) as lost:
        assert_counts(np.array([480, 500], dtype=np.int64), want, what="histogram_cpu")
    said = str(lost.value)
    assert "1 of 2 counts wrong; first at index 0: got 480, expected 500 (total 980 for 1000 values)" in said
    assert "updates were lost" in said and "privatization" in said and "atomic" in said
    with pytest.raises(AssertionError) as doubled:
        assert_counts(np.array([520, 500], dtype=np.int64), want, what="histogram_cpu")
    assert "counted twice" in str(doubled.value)
    with pytest.raises(AssertionError) as moved:
        assert_counts(np.array([499, 501], dtype=np.int64), want, what="histogram_cpu", reveal=False)
    assert "wrong index" in str(moved.value) and "expected" not in str(moved.value)


def test_a_total_that_comes_out_short_says_updates_were_lost():
    with pytest.raises(AssertionError, match="updates were lost"):
        assert_int_equal(97, 100, what="counter_locked", total=True)
    with pytest.raises(AssertionError, match="updates were lost"):
        assert_real_close(99.0, 100.0, what="dot_cpu of positive vectors", total=True)
    with pytest.raises(AssertionError) as plain:
        assert_real_close(99.0, 100.0, what="dot_cpu")
    assert "lost" not in str(plain.value)  # a sum of mixed signs says nothing about why


@pytest.mark.parametrize(
    "assignment_id, wrong, line, expected",
    [
        ("a2", "a2_races/non_atomic_histogram_gpu.py", "histogram.gpu.correctness", ["data race", "cuda.atomic.add"]),
        ("a3", "a3_stencil/early_return_blur_gpu.py", "blur.gpu.correctness", ["NaN", "element nothing wrote"]),
        ("a2", "a2_races/unguarded_index_dot_gpu.py", "dot.gpu.correctness", ["past the end", "guard it"]),
    ],
    ids=["race", "poison", "guard"],
)
def test_gpu_mistakes_are_named_with_their_likely_cause(course, tmp_path, assignment_id, wrong, line, expected):
    a = course.resolve(assignment_id)
    (tmp_path / a.spec.module_file).write_text(
        a.solution_module.read_text() + "\n\n" + (ROOT / "tests" / "wrong" / wrong).read_text()
    )
    report = grade_submission(a, tmp_path, hidden=False, gpu="cudasim", select=[line]).for_students()
    assert report.tests and all(t.status is Status.failed for t in report.tests), [(t.status, t.message) for t in report.tests]
    said = " ".join(t.message for t in report.tests)
    assert all(word in said for word in expected), said


PERF = PerformanceSpec(points=3, size=10, efficiency=0.6, floor_efficiency=0.15, max_cores=8)


def test_a_speed_line_short_of_its_target_says_what_to_try():
    none = decide_cpu(PERF, 2, measurement([1.0, 1.02, 0.99, 1.01], capacity=1.95))
    assert none.credit == 0 and "what to try" in none.message and "prange" in none.message
    assert "1.00×" in none.message and "machine delivers 1.95×" in none.message  # what it got, what it could get
    some = decide_cpu(PERF, 2, measurement([1.3, 1.32, 1.28, 1.31], capacity=1.95))
    assert 0 < some.credit < 1 and "larger pieces of work" in some.message
    full = decide_cpu(PERF, 2, measurement([1.9, 1.95, 1.85, 1.92], capacity=1.95))
    assert full.credit == 1 and "what to try" not in full.message


def test_a_partial_held_down_by_serial_speed_says_so():
    """a4's column panels on 2026-12-04's VM: 1.9× from 2 cores, but 0.64× the serial loop's speed on
    one core, so 1.23× over the baseline. The hint names the one-core time, not thread scheduling."""
    d = decide_cpu(PERF, 2, measurement([1.23] * 8, capacity=1.86, own=[1.92] * 8))
    assert d.verdict == "scored" and 0.0 < d.credit < 1.0
    assert "gains 1.92× from more cores, but on one core it takes 1.56× the baseline's time" in d.message
    assert "fewer, larger pieces" not in d.message
    # code as fast as the serial loop on one core that gains too little gets the parallelism hint
    even = decide_cpu(PERF, 2, measurement([1.3] * 8, capacity=1.86, own=[1.3] * 8))
    assert 0.0 < even.credit < 1.0 and "fewer, larger pieces" in even.message and "on one core it takes" not in even.message
    # full credit needs no hint, however slow the code is on one core
    full = decide_cpu(PERF, 2, measurement([1.7] * 8, capacity=1.86, own=[2.4] * 8))
    assert full.credit == 1.0 and "on one core it takes" not in full.message


def test_counters_never_zeroed_are_named_before_any_race():
    with pytest.raises(AssertionError) as garbage:
        assert_counts(np.array([-(2**63), 500], dtype=np.int64), np.array([500, 500], dtype=np.int64))
    assert "never set to zero" in str(garbage.value) and "lost" not in str(garbage.value)


def test_a_slowdown_is_told_apart_from_no_speedup():
    slower = decide_cpu(PERF, 2, measurement([0.3, 0.32, 0.31, 0.29], capacity=1.95))
    assert "slower than the serial code" in slower.message and "inner index" in slower.message


def test_a_hidden_test_that_raised_tells_the_student_the_exception_type_only():
    from grader.core.results import GradeReport, Machine, TestRecord

    raised = TestRecord(
        name="test_secret_input", task="t", part="gpu", kind="correctness", status=Status.failed, score=0, max_score=1,
        message="raised RaceError: data race (read/write) on bins[5] at line 12 with n=123457", visibility="hidden",
    )  # fmt: skip
    wrong = TestRecord(
        name="test_other", task="t", part="gpu", kind="correctness", status=Status.failed, score=0, max_score=1,
        message="histogram_gpu (n=123457): 3 of 64 counts wrong", visibility="hidden",
    )  # fmt: skip
    shown = GradeReport("a", "A", "s", Machine(2, "cudasim"), (raised, wrong), visibility="all").for_students()
    assert shown.tests[0].message.startswith("your code raised RaceError on a hidden test input")
    assert "123457" not in shown.tests[0].message and "bins" not in shown.tests[0].message
    assert shown.tests[1].message == "wrong result on a hidden test input"
