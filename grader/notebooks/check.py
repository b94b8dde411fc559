"""`check()`: what a test cell of an exported notebook runs, in the notebook's own kernel.

It grades one rubric line of the code the notebook has run so far with the grader's own engine
(the cells' definitions become the module, as `grader grade` does with an .ipynb; the sandbox,
hidden tests, timing and student view are the same), prints what a student may see, and gives the
line's points back in the form nbgrader and otter read:

- some points: the cell's value is the number (nbgrader's partial credit);
- no points: an AssertionError with the reason (nbgrader gives 0 for a cell that errors);
- pending (a speed line this machine could not judge, a GPU line without a GPU): a `Pending`
  error whose text starts with PENDING and says where to grade it. nbgrader has no "pending": the
  export's config saves such a cell with no autograde score, flagged "needs manual grade"
  (`nbgrader_pending.py`); the handout and README say to regrade it with `grader grade` on a
  machine that can judge it and enter the points as the cell's manual score.

Nothing is written to stderr while grading: nbgrader gives 0 to a test cell that printed there.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from dataclasses import replace
from pathlib import Path

from ..core.course import COURSE_ENV, Course, find_course_root
from ..core.results import Status
from ..run.grade import grade_submission
from ..run.notebook import NotebookModule, cells_to_module, code_cell_texts

CHECK_MARK = "grader.notebooks.check"  # cells that name it are the grader's (test cells), not the student's code
COURSE_MARKER = ".parlab-course"  # written by the exports: the course checkout an nbgrader/otter folder grades with


PENDING_PREFIX = "PENDING: "  # how a `Pending` message starts (nbgrader_pending.py looks for it)


class Pending(Exception):
    """This line could not be judged here: not a pass and not a zero (see the module docstring)."""


def check(assignment: str, line: str, *, hidden: bool = False, gpu: str | None = None, from_file: bool = False) -> float:
    """Grade ``line`` (TASK.PART.KIND) of ``assignment`` on the code cells this notebook has run.

    A student's check (public tests) grades that line alone. Graded with the hidden tests (nbgrader
    autograde, otter run), every line is graded at once, on the first test cell, and the other
    cells read that report while the notebook's code is the same: one sandboxed worker per
    notebook instead of one per line."""
    module = cells_to_module(_cells_of_the_notebook_here() if from_file else _cells_run_so_far())
    a = Course(course_root()).resolve(assignment)
    key = (a.id, module.source, hidden, gpu, None if hidden else line)
    report = _reports.get(key) or (None if hidden else _public_part(_autograded.get((a.id, gpu)), line))
    if report is None:
        with tempfile.TemporaryDirectory(prefix="parlab-check-") as tmp, _quiet():
            folder = Path(tmp)
            (folder / a.spec.module_file).write_text(module.source, encoding="utf-8")
            report = grade_submission(a, folder, hidden=hidden, gpu=gpu, select=None if hidden else [line])
        if len(_reports) > 32:
            _reports.clear()
        _reports[key] = report = report.for_students() if hidden else report
        if hidden:
            _autograded[(a.id, gpu)] = report
    return _verdict(report, line, module)


_reports: dict[tuple, object] = {}  # reports by what they graded (the notebook's code, the tests)
_autograded: dict[tuple, object] = {}  # the hidden grading of the notebook, by assignment and GPU backend


def _public_part(hidden_report, line: str):
    """The public tests of ``line`` out of the notebook's hidden grading, which runs them too.

    A hidden check runs only where the notebook is autograded (otter run, nbgrader autograde),
    and there the notebook file is what is graded. Otter runs each question's public test case
    next to its hidden ones: once the first hidden case has graded every line, the later public
    cases read their records here instead of starting a sandboxed worker per question (their
    own view, the kernel's history, also holds the cells otter adds to collect its results)."""
    if hidden_report is None:
        return None
    public = tuple(t for t in hidden_report.tests if t.visibility == "public" and str(t.line) == line)
    return replace(hidden_report, tests=public, visibility="public") if public else None


def points(assignment: str, line: str, *, hidden: bool = False, gpu: str | None = None, from_file: bool = False) -> float:
    """What an otter test case asks: the line's points (0 included), or `Pending`."""
    try:
        return check(assignment, line, hidden=hidden, gpu=gpu, from_file=from_file)
    except AssertionError:
        return 0.0


def _verdict(report, line: str, module: NotebookModule) -> float:
    records = [t for t in report.tests if str(t.line) == line]
    for t in records:
        mark = {Status.passed: "ok", Status.deferred: "PENDING"}.get(t.status, t.status.value.upper())
        print(f"{mark:8} {t.score:g}/{t.max_score:g}  {t.name}" + (f": {t.message}" if t.message else ""))
    for note in module.notes:
        print(f"note: {note}")
    if not records:
        raise AssertionError(f"no test graded {line}: {'; '.join(report.errors) or 'check the rubric line name'}")
    if any(t.status is Status.deferred for t in records):
        why = next(t.message for t in records if t.status is Status.deferred)
        raise Pending(
            f"{PENDING_PREFIX}{line} was not judged on this machine ({why}). This cell's 0 is not a grade: "
            "grade it with `grader grade` where it can be judged and enter the points by hand"
        )
    score = round(sum(t.score for t in records), 6)
    if score <= 0:
        raise AssertionError(f"0/{sum(t.max_score for t in records):g} points on {line}")
    return score


def _cells_run_so_far() -> list[str]:
    """The code cells this kernel has run, in order (IPython's input history)."""
    try:
        shell = get_ipython()  # type: ignore[name-defined]  # noqa: F821 - defined inside IPython
    except NameError:
        shell = None
    history = [text for text in (shell.user_ns.get("In", []) if shell else []) if text and CHECK_MARK not in text]
    if not history:
        return _cells_of_the_notebook_here()
    return history


def _cells_of_the_notebook_here() -> list[str]:
    found = sorted(Path.cwd().glob("*.ipynb"))
    if len(found) != 1:
        raise RuntimeError(f"check() grades the one notebook in {Path.cwd()}; found {len(found)}")
    return [text for text in code_cell_texts(found[0]) if CHECK_MARK not in text]


def course_root() -> Path:
    """$PARLAB_COURSE, else the course named by a `.parlab-course` file in this folder or above it
    (an nbgrader or otter folder made by `grader export`), else the checkout holding this folder."""
    if os.environ.get(COURSE_ENV):
        return find_course_root()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        marker = folder / COURSE_MARKER
        if marker.is_file():
            return Path(marker.read_text(encoding="utf-8").strip())
    return find_course_root()


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings(), contextlib.redirect_stderr(sys.stdout):
        warnings.simplefilter("ignore")
        yield
