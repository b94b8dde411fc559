"""Bad submissions never crash the grader: each costs only the tests it breaks, with a clear message.

Every case grades a real submission end to end (worker process, plugin, channel). To keep the run
short, most cases grade only the correctness rubric lines.
"""

from __future__ import annotations

import pytest

from grader.core.results import Status
from grader.run.grade import grade_submission

CORRECTNESS = ["*.*.correctness"]


def by_name(report):
    return {t.name: t for t in report.tests}


def grade(a1, folder, select=CORRECTNESS):
    return grade_submission(a1, folder, hidden=True, gpu="cudasim", select=select)


def test_missing_submission_folder_scores_zero_with_message(a1, tmp_path):
    report = grade(a1, tmp_path / "nope", select=["amdahl"])
    assert report.score == 0 and report.tests
    assert all(t.status is Status.error for t in report.tests)
    assert all("does not exist" in t.message for t in report.tests)
    assert "does not exist" in report.errors[0]


def test_missing_module_scores_zero_with_message(a1, tmp_path):
    (tmp_path / "empty").mkdir()
    report = grade(a1, tmp_path / "empty", select=["amdahl"])
    assert {t.status for t in report.tests} == {Status.error}
    assert all("speedup.py in" in t.message and "not found" in t.message for t in report.tests)
    assert "speedup.py is missing" in report.errors[0]


@pytest.mark.parametrize(
    "source, expected",
    [
        ("def amdahl_speedup(p, n)\n    return 1\n", "speedup.py line 1: SyntaxError"),
        (
            "import numpy\nraise RuntimeError('config file missing')\n",
            "importing speedup.py raised RuntimeError: config file missing (speedup.py:2 in <module>)",
        ),
        ("import sys\nsys.exit(3)\n", "speedup.py called sys.exit(3) while being imported"),
    ],
    ids=["syntax-error", "raises-at-import", "sys-exit-at-import"],
)
def test_module_that_cannot_be_imported(a1, make_submission, source, expected):
    report = grade(a1, make_submission(source=source), select=["amdahl"])
    assert report.tests and report.score == 0
    for t in report.tests:
        assert t.status is Status.error
        assert expected in t.message, t.message


@pytest.mark.parametrize(
    "body, expected",
    [
        ("return fourier_serial(x, terms).astype(np.float32)", "has dtype float32, expected float64"),
        ("return fourier_serial(x, terms)[:-1]", "has shape"),
        ("return list(fourier_serial(x, terms))", "should be a numpy.ndarray, got list"),
        ("out = fourier_serial(x, terms)\n    out[-1] = np.nan\n    return out", "unexpected NaN"),
        ("return fourier_serial(x, terms) + 1e-3", "elements of fourier_cpu(x) wrong; first at index 0"),
        ("return 1 / 0", "raised ZeroDivisionError: division by zero (speedup.py:"),
    ],
    ids=["wrong-dtype", "wrong-shape", "wrong-type", "nan", "wrong-values", "exception"],
)
def test_wrong_cpu_results_lose_only_cpu_points(a1, make_submission, body, expected):
    sub = make_submission(f"\ndef fourier_cpu(x, terms):\n    {body}\n")
    report = grade(a1, sub, select=["amdahl", "fourier.cpu.correctness"])
    cpu = [t for t in report.tests if t.part == "cpu"]
    amdahl = [t for t in report.tests if t.task == "amdahl"]
    assert cpu and all(t.status is Status.failed and t.score == 0 for t in cpu)
    public = by_name(report)["test_fourier_cpu_matches_serial"]
    assert expected in public.message, public.message
    assert all(t.status is Status.passed for t in amdahl), "the other task must still be graded"
    assert report.score == sum(t.max_score for t in amdahl)


def test_hidden_failures_do_not_reveal_expected_values(a1, make_submission):
    sub = make_submission("\ndef fourier_cpu(x, terms):\n    return fourier_serial(x, terms) + 1e-3\n")
    report = grade(a1, sub, select=["fourier.cpu.correctness"])
    hidden = [t for t in report.tests if t.visibility == "hidden"]
    assert hidden and all("expected" not in t.message and "got" not in t.message for t in hidden)


def test_infinite_loop_times_out_and_the_rest_is_still_graded(a1, make_submission, monkeypatch):
    # A hang inside compiled code cannot be interrupted by a signal; the worker is killed and restarted,
    # and the tests after the stuck one run in the new worker.
    sub = make_submission(
        """
        from numba import njit as _njit

        _honest_karp_flatt = karp_flatt

        @_njit
        def _spin(n):
            i = 0
            while n > 0:
                i += 1
            return i

        def karp_flatt(speedup, workers):
            if workers == 10 and abs(speedup - 1 / 0.19) < 1e-9:  # the public example only
                return _spin(1)
            return _honest_karp_flatt(speedup, workers)
        """
    )
    from grader.core import course as course_mod

    spec = a1.spec.model_copy(update={"test_timeout": 6})
    quick = course_mod.Assignment(spec=spec, folder=a1.folder, course_root=a1.course_root)
    report = grade(quick, sub, select=["amdahl", "fourier.cpu.correctness"])
    tests = by_name(report)
    assert tests["test_amdahl_examples"].status is Status.timeout
    assert "6 s limit" in tests["test_amdahl_examples"].message
    assert tests["test_amdahl_models_on_random_inputs"].status is Status.passed
    assert tests["test_amdahl_rejects_invalid_arguments"].status is Status.passed
    assert all(t.status is Status.passed for t in report.tests if t.task == "fourier")


# os._exit mid-test, printed fake results and other deliberate attacks: tests/grader/test_attacks.py
