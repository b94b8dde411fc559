"""Every assignment in the course validates: API, points, full marks for the solution, zero for the stub.

Also the checks themselves are checked: they must catch a drifted API or serial reference.
"""

from __future__ import annotations

import pytest

from grader.core.course import Course
from grader.core.results import Status
from grader.run.grade import grade_submission
from grader.staff.validate import compare_api, compare_serial, course_code, validate_assignment

from ..conftest import ROOT, judged

ASSIGNMENTS = [p.name for p in Course(ROOT).assignment_folders()]


def _validated(course, ident: str, select: list[str]):
    result = validate_assignment(course.resolve(ident), gpu="cudasim", select=select)
    failed = [f"{c.name}: {c.detail}" for c in result.checks if not c.ok]
    assert not failed, failed
    assert result.reports["stub"].score == 0
    return result.reports["solution"]


@pytest.mark.parametrize("ident", ASSIGNMENTS)
def test_assignment_validates_on_its_correctness_lines(course, ident):
    """Every check, with the solution and the stub graded on the correctness lines: no timing, so
    this shares the machine with other tests."""
    solution = _validated(course, ident, ["*.*.correctness"])
    assert solution.score == solution.gradable_max > 0
    assert not solution.deferred_points  # the simulator runs every GPU correctness test


@pytest.mark.parametrize("ident", ASSIGNMENTS)
@pytest.mark.alone
def test_solution_earns_every_speed_point(course, ident, full_timing):
    """Every check again, with the speed lines timed with the grader's full rounds, alone."""
    solution = _validated(course, ident, ["*.*.performance"])
    assert solution.score == solution.gradable_max
    assert any(t.kind == "performance" for t in solution.tests)
    # A speed line may be pending here (a busy machine; a2's memory-bound dot where one core already
    # uses most of the bandwidth; every GPU speed line without a GPU): validate counts it as neither
    # earned nor lost. The speed lines' verdicts are tested where they must be judged: known-wrong
    # submissions that break a speed line, and the serial-dressed-as-parallel test below.


def test_api_drift_is_caught(a1, tmp_path):
    stub = a1.stub_module
    drifted = tmp_path / "speedup.py"
    drifted.write_text(
        stub.read_text()
        .replace("def karp_flatt(speedup: float, workers: int)", "def karp_flatt(speedup: float, cores: int)")
        .replace("def workers_needed(", "def workers_required(")
    )
    problems = "\n".join(compare_api(stub, drifted, a1.spec.functions()))
    assert "solution does not define workers_needed()" in problems
    assert "signatures differ: stub karp_flatt(speedup: float, workers: int)" in problems


def test_serial_reference_drift_is_caught(a1, tmp_path):
    drifted = tmp_path / "speedup.py"
    drifted.write_text(a1.stub_module.read_text().replace("acc += math.sin(n * x[i]) / n", "acc += math.sin(n * x[i]) / n + 0.0"))
    assert compare_serial(a1.stub_module, drifted, ["fourier_serial"]) == [
        "fourier_serial differs between stub and solution (timings use the stub's copy)"
    ]
    assert compare_serial(a1.stub_module, a1.solution_dir / "speedup.py", ["fourier_serial"]) == []


def test_a_misspelt_serial_name_is_not_read_as_identical(a1):
    assert compare_serial(a1.stub_module, a1.solution_dir / "speedup.py", ["fourier_seral"]) == [
        "fourier_seral() is not defined in the stub or the solution: nothing to compare"
    ]


@pytest.mark.alone
def test_serial_code_dressed_as_parallel_earns_no_speedup_points(a1, make_submission):
    sub = make_submission("\nfourier_cpu = fourier_serial\n")
    report = grade_submission(a1, sub, hidden=False, gpu="cudasim", select=["fourier.cpu"])
    perf = [t for t in report.tests if t.kind == "performance"]
    correct = [t for t in report.tests if t.kind == "correctness"]
    assert all(t.status is Status.passed for t in correct)
    assert perf and all(t.score == 0 for t in perf), perf  # never a point, judged or not
    judged(perf[0])  # pending (a machine too busy to judge): skipped with the reason, not passed
    assert perf[0].status is Status.failed and perf[0].metrics["speedup"] < 1.15


def test_other_course_code_must_match_too(course, tmp_path):
    """a5 hands students its kernels, stages and the static schedule its speed test is timed against."""
    a5 = course.resolve("a5_pipelines")
    solution = a5.solution_dir / f"{a5.spec.module}.py"
    shared = course_code(a5.stub_module, solution, a5.spec)
    assert {"tiles_serial", "tiles_static", "escape_tile", "load_chunk"} <= set(shared)
    assert not {"tiles_cpu", "pipeline_cpu"} & set(shared)  # what students write may differ, of course
    assert compare_serial(a5.stub_module, solution, shared) == []
    drifted = tmp_path / "pipelines.py"
    text = solution.read_text()
    start = text.index("def tiles_static(")
    drifted.write_text(text[:start] + text[start:].replace("\n", "\n    pass  # slower on purpose\n", 1))
    problems = compare_serial(a5.stub_module, drifted, shared)
    assert problems == ["tiles_static differs between stub and solution (timings use the stub's copy)"]
