"""`grader export otter`: an assignment as an Otter Assign master notebook (format v1).

The same cells as the nbgrader export (handout, read-only course code, solution regions in the
functions, a helpers cell; `strip_solutions_from_all_cells` turns each region into `...`), then
one question per rubric line. Otter scores a test case pass/fail, so a line worth P points has
hidden test cases of `STEP` points each, and the k-th passes when the line earned at least k
steps: partial credit (a speed line's 1.85 of 3) survives to a quarter point. A public test case
(0 points) lets students check the line with otter's `grader.check`.

Every test case calls `check.points()`, which grades the notebook's code with the grader's own
engine once per notebook (grader/notebooks/check.py). A line this machine cannot judge fails its
test cases with a message starting with PENDING: otter has no pending state either, so the README
says to regrade such lines with `grader grade` and adjust the score by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..core.course import Assignment
from .cells import cell, notebook, write_notebook
from .check import CHECK_MARK, COURSE_MARKER
from .nbgrader import course_cells

STEP = 0.25  # the smallest share of a line's points otter can give (one hidden test case)


@dataclass
class OtterExport:
    assignment: Assignment
    root: Path
    notebook: Path
    lines: dict[str, float]


def _raw(text: str) -> dict:
    return cell("raw", text)


def master_notebook(assignment: Assignment) -> tuple[dict, dict[str, float]]:
    config = (
        "# ASSIGNMENT CONFIG\n"
        f"name: {assignment.id}\n"
        "strip_solutions_from_all_cells: true\n"
        "export_cell: false\n"
        "check_all_cell: false\n"
        "tests:\n"
        "    ok_format: false\n"
    )
    cells = [_raw(config)]
    cells += [cell(kind, text) for kind, text, _ in course_cells(assignment)]
    lines = {str(line): points for line, points in assignment.spec.lines().items()}
    for line, points in lines.items():
        name = line.replace(".", "_")
        cells += [
            _raw(f"# BEGIN QUESTION\nname: {name}\npoints: {points:g}"),
            cell("markdown", f"**{line}** ({points:g} points): graded with the course's grader."),
            _raw("# BEGIN TESTS"),
            cell("code", _test(assignment.id, line, hidden=False, needed=0, points=0)),
        ]
        steps = max(1, math.ceil(points / STEP - 1e-9))
        for k in range(1, steps + 1):
            share = points / steps
            cells.append(cell("code", _test(assignment.id, line, hidden=True, needed=k * share, points=share)))
        cells += [_raw("# END TESTS"), _raw("# END QUESTION")]
    return notebook(cells), lines


def _test(assignment_id: str, line: str, *, hidden: bool, needed: float, points: float) -> str:
    config = f'""" # BEGIN TEST CONFIG\nhidden: {str(hidden).lower()}\npoints: {points:g}\n""" # END TEST CONFIG\n'
    name = line.replace(".", "_") + ("_public" if not hidden else f"_{needed:g}".replace(".", "_"))
    return (
        config + f"def test_{name}():\n"
        f"    import {CHECK_MARK}\n\n"
        f'    got = {CHECK_MARK}.points("{assignment_id}", "{line}", hidden={hidden}, from_file={hidden})\n'
        f'    assert got >= {needed!r} - 1e-9, f"{{got:g}} points on {line}"'
    )


def export_otter(assignment: Assignment, out: Path) -> OtterExport:
    """Write ``out/<id>.ipynb`` (the master notebook) and the course marker next to it."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    nb, lines = master_notebook(assignment)
    path = write_notebook(out / f"{assignment.id}.ipynb", nb)
    (out / COURSE_MARKER).write_text(str(assignment.course_root.resolve()) + "\n", encoding="utf-8")
    return OtterExport(assignment, out, path, lines)
