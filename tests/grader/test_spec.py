"""The spec loader: a good spec loads; every kind of bad spec names the file, the field and the fix."""

from __future__ import annotations

import pytest

from grader.core.spec import SpecError, load_spec

GOOD = """
id = "a9_demo"
title = "Demo"
module = "demo"

[[tasks]]
name = "square"
title = "Square things"
serial = "square_serial"

  [tasks.cpu]
  functions = ["square_cpu"]
  correctness = 2
  sizes = [1, 10]

    [tasks.cpu.performance]
    points = 3
    size = 1000
"""


def write(tmp_path, text, folder="a9_demo"):
    d = tmp_path / folder
    d.mkdir()
    (d / "assignment.toml").write_text(text)
    return d


def test_good_spec_loads_with_points_and_buckets(tmp_path):
    spec = load_spec(write(tmp_path, GOOD))
    assert spec.max_score == 5
    assert spec.lines() == {("square", "cpu", "correctness"): 2, ("square", "cpu", "performance"): 3}
    assert spec.functions() == ["square_serial", "square_cpu"]
    assert spec.part("square", "cpu").performance.efficiency == 0.7


def test_a1_spec_adds_up(a1):
    assert a1.spec.max_score == sum(a1.spec.lines().values()) == 14


@pytest.mark.parametrize(
    "change, field, expectation",
    [
        (('title = "Demo"\n', ""), "title", "required field is missing"),
        (("correctness = 2", 'correctness = "two"'), "tasks[0].cpu.correctness", "valid number"),
        (("correctness = 2", "correctness = -1"), "tasks[0].cpu.correctness", "greater than or equal to 0"),
        (("size = 1000", "size = 1000\n    speed = 3"), "tasks[0].cpu.performance.speed", "unknown field"),
        (('functions = ["square_cpu"]', "functions = []"), "tasks[0].cpu.functions", "at least 1 item"),
        (('module = "demo"', 'module = "my-module"'), "module", "should match pattern"),
        (("size = 1000", "size = 1000\n    target = 5.0"), "tasks[0].cpu.performance", "give both target and floor"),
        (("[tasks.cpu]", "[tasks.cpux]"), "tasks[0].cpux", "unknown field"),
    ],
)
def test_bad_spec_names_file_field_and_expectation(tmp_path, change, field, expectation):
    folder = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(SpecError) as err:
        load_spec(folder)
    message = str(err.value)
    assert str(folder / "assignment.toml") in message
    assert f"  {field}:" in message, message
    assert expectation in message, message


def test_duplicate_task_names_are_rejected(tmp_path):
    text = GOOD + GOOD[GOOD.index("[[tasks]]") :]
    with pytest.raises(SpecError, match="task names must be unique; repeated: square"):
        load_spec(write(tmp_path, text))


def test_task_without_parts_is_rejected(tmp_path):
    text = 'id = "a9_demo"\ntitle = "D"\nmodule = "demo"\n[[tasks]]\nname = "x"\ntitle = "X"\n'
    with pytest.raises(SpecError, match="at least one of the parts"):
        load_spec(write(tmp_path, text))


def test_invalid_toml_and_missing_file_and_wrong_id(tmp_path):
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(write(tmp_path, "id = [", folder="broken"))
    with pytest.raises(SpecError, match="no assignment spec here"):
        load_spec(tmp_path / "nowhere")
    with pytest.raises(SpecError, match="id: must equal the folder name 'other'"):
        load_spec(write(tmp_path, GOOD, folder="other"))
