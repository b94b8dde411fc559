"""a5 gives students more course code than a serial reference: the tile and stage kernels the tests
call and the static schedule the tiles speed test is timed against. Stub and solution must agree on
all of it (timings and hidden tests use the released copy)."""

from __future__ import annotations

from grader.validate import compare_api, compare_serial

COURSE_CODE = [
    "tile_count",
    "escape_tile",
    "tiles_static",
    "load_chunk",
    "transform_chunk",
    "reduce_chunk",
    "chunk_value",
    "collatz_steps",
]


def test_a5_course_code_is_identical_in_stub_and_solution(course):
    a5 = course.resolve("a5_pipelines")
    solution = a5.solution_dir / f"{a5.spec.module}.py"
    assert compare_api(a5.stub_module, solution, COURSE_CODE) == []  # all defined in both, same signatures
    assert compare_serial(a5.stub_module, solution, COURSE_CODE) == []
