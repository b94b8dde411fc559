"""The attack suite: each file in tests/attacks/a1_speedup/ is a submission trying one way to cheat
or break the grader (appended to the reference solution, so everything it does not attack is correct).

For every attack: the grader finishes, its results survive a JSON round trip, the tests the attack
touches score 0 with a clear status, the tests it does not touch keep their points, and nothing a
student sees quotes a hidden test or the solution. The table in docs/threat-model.md lists them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from grader.core import course as course_mod
from grader.core.devices import TIMING_ENV
from grader.core.results import GradeReport, Status
from grader.run import isolation
from grader.run.grade import GradingError, grade_submission
from grader.run.leaks import secret_lines

from ..conftest import judged

ATTACKS = Path(__file__).resolve().parent.parent / "attacks" / "a1_speedup"
CHEAP = ["amdahl", "fourier.cpu.correctness"]
PERF = ["fourier.cpu.performance"]


def attack(name: str) -> str:
    return (ATTACKS / f"{name}.py").read_text()


def grade(a1, folder, select, *, test_timeout=None, tmp_path=None):
    if test_timeout is not None:
        spec = a1.spec.model_copy(update={"test_timeout": test_timeout})
        a1 = course_mod.Assignment(spec=spec, folder=a1.folder, course_root=a1.course_root)
    report = grade_submission(a1, folder, hidden=True, gpu="cudasim", select=select)
    if tmp_path is not None:  # the results file is valid and complete
        report.write_json(tmp_path / "results.json")
        assert GradeReport.read_json(tmp_path / "results.json") == report
    return report


def statuses(report, **where):
    return [t.status for t in report.tests if all(getattr(t, k) == v for k, v in where.items())]


def assert_nothing_secret_shown(a1, report):
    secrets = secret_lines([*a1.hidden_tests, a1.solution_dir / "speedup.py"], [*a1.public_tests, a1.folder / "speedup.py"])
    for t in report.for_students().tests:
        assert not any(line in t.message for line in secrets), t.message
        if t.visibility == "hidden":
            assert t.name.startswith("hidden ") and t.nodeid == ""


def run_processes():
    """Live processes (zombies are dead already; they wait only for init to reap them)."""
    live = set()
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and Path(f"/proc/{p}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X"):
                live.add(int(p))
        except (OSError, IndexError):
            continue
    return live


def test_infinite_loop_is_stopped_and_the_rest_still_graded(a1, make_submission, tmp_path):
    report = grade(a1, make_submission(attack("infinite_loop")), CHEAP, test_timeout=6, tmp_path=tmp_path)
    tests = {t.name: t for t in report.tests}
    assert tests["test_amdahl_examples"].status is Status.timeout and "6 s limit" in tests["test_amdahl_examples"].message
    assert tests["test_amdahl_models_on_random_inputs"].status is Status.passed
    assert set(statuses(report, task="fourier")) == {Status.passed}


def test_memory_bomb_fails_its_tests_only(a1, make_submission, tmp_path):
    report = grade(a1, make_submission(attack("memory_bomb")), CHEAP, tmp_path=tmp_path)
    cpu = [t for t in report.tests if t.part == "cpu"]
    assert cpu and all(t.score == 0 and t.status in (Status.failed, Status.error) for t in cpu)
    assert any("MemoryError" in t.message for t in cpu), [t.message for t in cpu]
    assert set(statuses(report, task="amdahl")) == {Status.passed}


def test_fork_bomb_is_killed_whole_and_voids_its_test(a1, make_submission, tmp_path):
    label = f"forkbomb-{os.getpid()}"  # every fork carries the worker's command line, with this label in it
    report = grade(a1, make_submission(attack("fork_bomb"), name=label), CHEAP, tmp_path=tmp_path)
    first_cpu = next(t for t in report.tests if t.part == "cpu")
    assert first_cpu.status is Status.error and first_cpu.score == 0
    assert "more than 64 processes" in first_cpu.message, first_cpu.message
    assert any("more than 64 processes" in f for f in report.flags)
    assert set(statuses(report, task="amdahl")) == {Status.passed}
    left = [p for p in run_processes() if label.encode() in _cmdline(p)]  # other gradings on the machine don't count
    assert not left, f"processes left behind: {sorted(left)}"


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_os_exit_mid_test_is_an_error(a1, make_submission, tmp_path):
    report = grade(a1, make_submission(attack("os_exit")), CHEAP, tmp_path=tmp_path)
    cpu = [t for t in report.tests if t.part == "cpu"]
    assert cpu and all(t.status is Status.error and "died during this test (exit code 0)" in t.message for t in cpu)
    assert set(statuses(report, task="amdahl")) == {Status.passed}


@pytest.mark.parametrize("name", ["atexit_forgery", "fake_results_file", "fake_pytest_summary", "forge_record"])
def test_forged_results_earn_nothing(a1, make_submission, tmp_path, name):
    sub = make_submission(attack(name))
    report = grade(a1, sub, CHEAP, tmp_path=tmp_path)
    cpu = [t for t in report.tests if t.part == "cpu"]
    assert cpu and all(t.score == 0 for t in cpu)
    assert all(t.status in (Status.failed, Status.error) for t in cpu)
    assert set(statuses(report, task="amdahl")) == {Status.passed}
    assert report.score == sum(t.max_score for t in report.tests if t.task == "amdahl")
    if name == "forge_record":
        assert all(t.status is Status.error and "forged" in t.message for t in cpu)
    if name == "fake_results_file":
        assert (sub / "results.json").exists() is False, "the student's own folder is never written"


def test_always_equal_objects_fail(a1, make_submission, tmp_path):
    report = grade(a1, make_submission(attack("always_equal")), CHEAP, tmp_path=tmp_path)
    amdahl = [t for t in report.tests if t.task == "amdahl"]
    assert amdahl and all(t.score == 0 for t in amdahl)
    public = next(t for t in amdahl if t.name == "test_amdahl_examples")
    assert "should be a number (float or int), got _Yes" in public.message
    assert set(statuses(report, task="fourier")) == {Status.passed}


@pytest.mark.parametrize("name, replaced", [("patch_assert_allclose", "numpy"), ("patch_perf_counter", "time.perf_counter")])
def test_patching_the_grader_is_detected_and_undone(a1, make_submission, tmp_path, name, replaced):
    select = CHEAP + (PERF if name == "patch_perf_counter" else [])
    report = grade(a1, make_submission(attack(name)), select, tmp_path=tmp_path)
    cpu = [t for t in report.tests if t.part == "cpu"]
    assert cpu and all(t.status is Status.error and t.score == 0 for t in cpu)
    assert all("tampering detected" in t.message and replaced in t.message for t in cpu), [t.message for t in cpu]
    # Restored after each test: the tests that do not call the patching code keep their points.
    assert set(statuses(report, task="amdahl")) == {Status.passed}


@pytest.fixture(params=["isolated", "not isolated"])
def isolation_mode(request, monkeypatch):
    """Attacks the isolation stops first, also run without it: the defences behind it must hold alone."""
    if request.param == "isolated" and not isolation.detect().full:
        pytest.skip(f"isolation not available here: {isolation.detect().why}")
    if request.param == "not isolated":
        monkeypatch.setenv(isolation.MODE_ENV, "off")
    isolation.detect.cache_clear()
    yield request.param
    isolation.detect.cache_clear()


def test_reading_hidden_tests_reveals_nothing_to_the_student(a1, make_submission, tmp_path, isolation_mode):
    report = grade(a1, make_submission(attack("read_hidden_tests")), CHEAP, tmp_path=tmp_path)
    cpu = [t for t in report.tests if t.part == "cpu"]
    assert cpu and all(t.score == 0 for t in cpu)
    if isolation_mode == "isolated":  # the course checkout is not in the sandbox's view at all
        assert all("nothing found" in t.message for t in cpu), [t.message for t in cpu]
    else:  # read, but the message quoting it is withheld and flagged
        assert any("withheld" in t.message for t in cpu)
        assert any("quoted a course-internal file" in f for f in report.flags)
    assert_nothing_secret_shown(a1, report)


def test_calling_the_staff_solution_earns_no_correctness_point(a1, make_submission, tmp_path, monkeypatch):
    """The solution is timed next to student code on speed lines; a submission that finds it (by the
    grader's name for it, or among every live module) and calls it must find nothing where correctness
    is graded, also when the same grading times a speed line (its rounds are not needed here)."""
    monkeypatch.setenv(TIMING_ENV, "off")
    report = grade(a1, make_submission(attack("call_the_solution")), ["fourier.cpu"], tmp_path=tmp_path)
    correctness = [t for t in report.tests if t.part == "cpu" and t.kind == "correctness"]
    assert correctness and all(t.score == 0 for t in correctness), [(t.name, t.status) for t in correctness]
    assert all("no staff solution in this process" in t.message for t in correctness), [t.message for t in correctness]
    assert any(t.kind == "performance" for t in report.tests)  # the speed line was in the same grading


@pytest.mark.alone
def test_cached_outputs_earn_no_speed(a1, make_submission, tmp_path):
    report = grade(a1, make_submission(attack("cache_outputs")), PERF, tmp_path=tmp_path)
    (perf,) = report.tests
    judged(perf)
    assert perf.status is Status.failed and perf.score == 0
    assert "wrong answer on a timed run" in perf.message


@pytest.mark.alone
def test_background_thread_is_rejected(a1, make_submission, tmp_path):
    report = grade(a1, make_submission(attack("background_thread")), PERF, tmp_path=tmp_path)
    (perf,) = report.tests
    assert perf.score == 0 and perf.status is Status.failed  # the student's doing: never deferred as the machine's
    assert "kept using CPU after returning" in perf.message


@pytest.mark.alone
def test_children_spinning_outside_its_calls_fail_the_line_instead_of_deferring_it(a1, make_submission, tmp_path):
    report = grade(a1, make_submission(attack("stopped_children")), PERF, tmp_path=tmp_path)
    (perf,) = report.tests
    assert perf.score == 0 and perf.status is Status.failed, perf.message  # never pending: a rerun would not resolve it
    assert "kept using CPU after returning" in perf.message and "processes" in perf.message


def test_wrecking_the_working_directory_changes_nothing(a1, make_submission, tmp_path):
    sub = make_submission(attack("wreck_working_dir"))
    report = grade(a1, sub, CHEAP, tmp_path=tmp_path)
    assert report.tests and all(t.status is Status.passed for t in report.tests)
    assert (sub / "speedup.py").is_file()


def test_poisoning_the_course_checkout_stops_grading(make_submission, tmp_path, a1, isolation_mode):
    course = tmp_path / "course"
    for part in ("assignments", "solutions", "tests/hidden"):
        shutil.copytree(a1.course_root / part, course / part)
    copy = course_mod.Course(course).resolve("a1")
    before = {p: p.read_bytes() for p in course.rglob("*.py")}
    if isolation_mode == "isolated":  # the assignment folder is read-only in the sandbox: the write fails
        report = grade(copy, make_submission(attack("poison_course")), ["amdahl"])
        assert report.tests and all(t.status is Status.error for t in report.tests)
        denied = ("Read-only file system", "Permission denied")  # as an unprivileged user, permissions say no first
        assert all(any(d in t.message for d in denied) for t in report.tests), [t.message for t in report.tests]
        assert {p: p.read_bytes() for p in course.rglob("*.py")} == before
    else:  # written, caught by the fingerprint, and this submission's results are not kept
        with pytest.raises(GradingError, match="course checkout changed"):
            grade(copy, make_submission(attack("poison_course")), ["amdahl"])


def test_sys_exit_at_import_scores_nothing_and_says_why(a1, make_submission, tmp_path):
    report = grade(a1, make_submission(attack("sys_exit_at_import")), CHEAP, tmp_path=tmp_path)
    assert report.tests and all(t.status is Status.error and t.score == 0 for t in report.tests)
    assert all("called sys.exit(0) while being imported" in t.message for t in report.tests), [t.message for t in report.tests]


def test_start_up_and_pytest_hooks_in_the_submission_are_ignored(a1, make_submission, tmp_path, monkeypatch):
    """conftest.py, pytest.ini / pyproject.toml, sitecustomize, usercustomize, .pth and PYTHON* variables."""
    marker = tmp_path / "hooked"
    touch = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    sub = make_submission("def fourier_cpu(x, terms):\n    raise NotImplementedError\n")
    (sub / "conftest.py").write_text(
        touch + "import pytest\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n"
    )
    (sub / "evil_plugin.py").write_text(touch)
    (sub / "pytest.ini").write_text("[pytest]\naddopts = -p evil_plugin\n")
    (sub / "pyproject.toml").write_text("[tool.pytest.ini_options]\naddopts = '-p evil_plugin'\n")
    for name in ("sitecustomize", "usercustomize"):
        (sub / f"{name}.py").write_text(touch)
    (sub / "hook.pth").write_text(f"import os; {touch}")
    startup = tmp_path / "startup"
    startup.mkdir()
    (startup / "sitecustomize.py").write_text(touch)
    (startup / "start.py").write_text(touch)
    monkeypatch.setenv("PYTHONPATH", str(startup))
    monkeypatch.setenv("PYTHONSTARTUP", str(startup / "start.py"))
    monkeypatch.setenv("PYTHONINSPECT", "1")
    report = grade(a1, sub, CHEAP, tmp_path=tmp_path)
    assert not marker.exists(), f"student code ran before the tests: {marker.read_text()}"
    cpu = [t for t in report.tests if t.part == "cpu"]
    assert cpu and all(t.status is Status.failed and t.score == 0 for t in cpu)
    assert set(statuses(report, task="amdahl")) == {Status.passed}


def test_changed_released_files_are_flagged_and_not_used(a1, tmp_path):
    """A student repository laid out like the release: editing the public tests changes nothing but is flagged."""
    sub = tmp_path / "repo"
    shutil.copytree(a1.folder, sub)
    shutil.copyfile(a1.solution_dir / f"{a1.spec.module}.py", sub / f"{a1.spec.module}.py")
    public = next(p for p in a1.public_tests)
    (sub / public.name).write_text("def test_everything():\n    assert True\n")
    (sub / "assignment.toml").unlink()
    report = grade(a1, sub, CHEAP, tmp_path=tmp_path)
    assert f"protected file {public.name} was modified (grading used the course's copy)" in report.flags
    assert "protected file assignment.toml was deleted" in report.flags
    assert report.tests and all(t.status is Status.passed for t in report.tests)
    assert not any(t.name == "test_everything" for t in report.tests)
