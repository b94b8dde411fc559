"""The record and score path: records keep their invariants, reports add up, JSON round-trips."""

from __future__ import annotations

import json

import pytest

from grader.core.results import GradeReport, Machine, Status, TestRecord
from grader.formats import terminal


def rec(name, status, score, max_score, task="t", part="cpu", kind="correctness", **kw):
    return TestRecord(name=name, task=task, part=part, kind=kind, status=Status(status), score=score, max_score=max_score, **kw)


def report(*tests):
    return GradeReport("a9", "Demo", "/sub", Machine(cores=2, gpu="cudasim"), tuple(tests), visibility="all")


def test_records_refuse_impossible_scores():
    with pytest.raises(ValueError, match="outside"):
        rec("a", "passed", 2, 1)
    with pytest.raises(ValueError, match="cannot earn points"):
        rec("a", "failed", 0.5, 1)
    with pytest.raises(ValueError, match="cannot earn points"):
        rec("a", "deferred", 1, 1)


def test_report_scores_deferred_and_gradable_points():
    r = report(
        rec("a", "passed", 1, 1),
        rec("b", "partial", 1.4, 3, kind="performance"),
        rec("c", "failed", 0, 2),
        rec("d", "deferred", 0, 3, part="gpu", kind="performance"),
        rec("e", "timeout", 0, 1),
    )
    assert r.score == 2.4
    assert r.max_score == 10
    assert r.deferred_points == 3
    assert r.gradable_max == 7
    lines = [lr.line for lr in r.lines()]
    assert lines == [("t", "cpu", "correctness"), ("t", "cpu", "performance"), ("t", "gpu", "performance")]
    assert [str(lr.line) for lr in r.lines()] == ["t.cpu.correctness", "t.cpu.performance", "t.gpu.performance"]


def test_json_round_trip_keeps_everything(tmp_path):
    r = report(rec("a", "partial", 0.5, 1, metrics={"speedup": 1.3}, visibility="hidden", message="m"))
    path = tmp_path / "out" / "results.json"
    r.write_json(path)
    data = json.loads(path.read_text())
    assert data["score"] == 0.5 and data["max_score"] == 1 and data["machine"]["cores"] == 2
    assert set(data["tests"][0]) >= {"name", "task", "kind", "status", "score", "max_score", "message", "metrics"}
    assert GradeReport.read_json(path) == r
    assert not list(path.parent.glob(".*tmp")), "atomic write leaves no temp file"


@pytest.mark.parametrize(
    "statuses, expected",
    [
        (["passed", "passed"], "passed"),
        (["passed", "deferred"], "passed"),
        (["deferred"], "pending"),
        (["timeout"], "timeout"),
        (["passed", "failed"], "partial"),
        (["failed", "error"], "failed"),
    ],
)
def test_line_status_summarises_a_rubric_line(statuses, expected):
    records = [rec(str(i), s, 1 if s == "passed" else 0, 1) for i, s in enumerate(statuses)]
    (line,) = report(*records).lines()
    assert line.status == expected


def test_terminal_table_shows_points_deferred_and_detail():
    from rich.console import Console

    console = Console(width=120, record=True)
    terminal.render(
        report(
            rec("a", "passed", 2, 2, task="amdahl", part="python"),
            rec("b", "partial", 1.4, 3, task="fourier", kind="performance", message="1.52× (1.47–1.58), target 1.60× on 2 cores"),
            rec("c", "deferred", 0, 2, task="fourier", part="gpu", kind="performance", message="needs a CUDA GPU"),
        ),
        console,
    )
    text = console.export_text()
    assert "2 usable cores · GPU: simulator" in text
    assert "1.4/3" in text and "1.52× (1.47–1.58), target 1.60× on 2 cores" in text
    assert "–/2" in text and "pending" in text
    assert "3.4/5" in text and "(+2 pending)" in text


def test_a_nan_where_a_number_belongs_says_what_it_usually_means():
    import numpy as np

    from grader.worker.testkit import assert_array_close

    with pytest.raises(AssertionError, match="unexpected NaN.*marks an element nothing wrote.*cuda.syncthreads"):
        assert_array_close(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    with pytest.raises(AssertionError) as missing_nan:  # a NaN expected and not produced: no such hint
        assert_array_close(np.array([1.0, 2.0]), np.array([1.0, np.nan]))
    assert "nothing wrote" not in str(missing_nan.value)
