"""`grader export nbgrader`: an assignment as an nbgrader course folder, built from its sources.

The source notebook (`source/<id>/<id>.ipynb`, nbgrader metadata schema 3) holds:

- the handout (README.md) as a read-only markdown cell, and a cell on how the notebook is graded;
- the course code the stub and the solution share (imports, constants, serial references) as
  read-only code cells;
- each function students write as a solution cell: the stub's signature and docstring, the
  solution's body between `# BEGIN SOLUTION` / `# END SOLUTION` (so `nbgrader
  generate_assignment` hands out the stub), and the solution's own helpers as one more solution
  cell (students may write theirs there);
- one grade cell per rubric line, with the spec's points, that calls `check()`
  (grader/notebooks/check.py): the public tests of that line for students, the hidden ones too
  when nbgrader autogrades (a `### BEGIN HIDDEN TESTS` region). The grading is the grader's own:
  sandbox, timing against the machine's capacity, partial credit as the cell's value, and a
  PENDING error for a line this machine cannot judge.

Solution regions are replaced by `# YOUR CODE HERE` (ClearSolutions.code_stub): a function keeps
its docstring, so it still parses and returns None until written, and the helpers cell does not
raise when a student runs every cell.
"""

from __future__ import annotations

import ast
import contextlib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core.course import Assignment
from ..staff.release import find_leaks
from .cells import cell, code_cells, notebook, write_notebook
from .check import CHECK_MARK, COURSE_MARKER

SCHEMA = 3
CONFIG = """\
# nbgrader configuration written by `grader export nbgrader` (edit freely).
c = get_config()  # noqa: F821 - nbgrader defines it
c.CourseDirectory.course_id = "parlab"
# A solution region becomes a comment: each function keeps its docstring (so it parses and returns
# None until written), and the helpers cell does not raise when every cell is run.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}
# Each test cell grades one rubric line with the grader (sandboxed worker, timing): give it time.
c.Execute.timeout = 1800
# A line this machine could not judge (its cell raises PENDING) is saved with no score and flagged
# "needs manual grade", not scored 0 (grader/notebooks/nbgrader_pending.py).
from grader.notebooks.nbgrader_pending import autograde_preprocessors  # noqa: E402

c.Autograde.autograde_preprocessors = autograde_preprocessors()
"""


@dataclass
class NbgraderExport:
    assignment: Assignment
    root: Path
    notebook: Path
    lines: dict[str, float]  # rubric line -> points of its grade cell


def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False, points: float = 0) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA, "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def course_cells(assignment: Assignment) -> list[tuple[str, str, dict]]:
    """(cell type, source, nbgrader metadata) of the handout, course code, functions and helpers:
    what the nbgrader and otter exports share. Solution regions use `# BEGIN SOLUTION` /
    `# END SOLUTION`, which both tools read."""
    spec = assignment.spec
    stub_text = assignment.stub_module.read_text(encoding="utf-8")
    solution_text = assignment.solution_module.read_text(encoding="utf-8")
    stub_defs = _definitions(stub_text)
    graded = {f for t in spec.tasks for p in t.parts.values() for f in p.functions}
    cells = [
        ("markdown", assignment.folder.joinpath("README.md").read_text(encoding="utf-8"), _meta("handout", locked=True)),
        ("markdown", _how_graded(assignment), _meta("how-graded", locked=True)),
    ]
    solution_cells = code_cells(solution_text)
    bodies = {name: text for text in solution_cells for name in _names(text) & graded}
    helpers = [t for t in solution_cells if not _names(t) & graded and t not in stub_text]
    shared = 0
    for text in code_cells(stub_text):
        names = sorted(_names(text) & graded)
        if not names:
            shared += 1
            cells.append(("code", text, _meta(f"course-code-{shared}", locked=True)))
            continue
        if helpers:  # after the course code they may use, before the first function that may call them
            cells.append(_helpers_cell(helpers))
            helpers = []
        cells.append(("code", _solution_function(bodies[names[0]], stub_defs.get(names[0])), _meta(names[0], solution=True)))
    if helpers:
        cells.append(_helpers_cell(helpers))
    return cells


def source_notebook(assignment: Assignment) -> tuple[dict, dict[str, float]]:
    cells = [cell(kind, text, meta) for kind, text, meta in course_cells(assignment)]
    lines = {str(line): points for line, points in assignment.spec.lines().items()}
    setup = f"import {CHECK_MARK}  # the grader's check() for the cells below"
    cells.append(cell("code", setup, _meta("grader-setup", locked=True)))
    for line, points in lines.items():
        meta = _meta(line.replace(".", "-"), grade=True, locked=True, points=points)
        cells.append(cell("code", _test_cell(assignment.id, line, points), meta))
    return notebook(cells), lines


def export_nbgrader(assignment: Assignment, out: Path) -> NbgraderExport:
    """Write an nbgrader course folder for ``assignment`` under ``out`` (created; files replaced)."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    nb, lines = source_notebook(assignment)
    path = write_notebook(out / "source" / assignment.id / f"{assignment.id}.ipynb", nb)
    (out / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    (out / COURSE_MARKER).write_text(str(assignment.course_root.resolve()) + "\n", encoding="utf-8")
    return NbgraderExport(assignment, out, path, lines)


class NbgraderUnavailable(RuntimeError):
    """nbgrader is not installed here (the `notebooks` extra)."""


def nbgrader_api(root: Path):
    """nbgrader's API for the course folder ``root``, configured by the export's nbgrader_config.py."""
    try:
        from nbgrader.apps import NbGraderAPI
        from traitlets.config import Config
    except ImportError:
        raise NbgraderUnavailable("nbgrader is not installed (pip install -e '.[notebooks]')") from None
    config = Config()
    config.CourseDirectory.root = str(root)
    exec((root / "nbgrader_config.py").read_text(encoding="utf-8"), {"get_config": lambda: config})
    return NbGraderAPI(config=config)


def generate_student_version(made: NbgraderExport) -> tuple[Path, list[tuple[str, str]]]:
    """Run nbgrader's generate_assignment on the export; the student notebook and what it leaks."""
    assignment_id = made.notebook.parent.name
    with _venv_on_path():  # nbgrader's gradebook runs the `alembic` executable next to this Python
        done = nbgrader_api(made.root).generate_assignment(assignment_id)
    if not done["success"]:
        raise RuntimeError(f"nbgrader generate_assignment failed: {done['error'][-2000:]}")
    student = made.root / "release" / assignment_id / made.notebook.name
    return student, student_leaks(made.assignment, student)


@contextlib.contextmanager
def _venv_on_path():
    before = os.environ.get("PATH", "")
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + before
    try:
        yield
    finally:
        os.environ["PATH"] = before


def student_leaks(assignment: Assignment, student_notebook: Path) -> list[tuple[str, str]]:
    """Solution or hidden-test lines in a generated student notebook (its JSON and its cells' code)."""
    from ..run.notebook import cell_text, read_cells

    with tempfile.TemporaryDirectory(prefix="parlab-nb-leaks-") as tmp:
        tree = Path(tmp)
        (tree / student_notebook.name).write_bytes(student_notebook.read_bytes())
        code = "\n".join(cell_text(c) for c in read_cells(student_notebook))
        (tree / (student_notebook.stem + ".cells.txt")).write_text(code, encoding="utf-8")
        return find_leaks(tree, assignment)


def _test_cell(assignment_id: str, line: str, points: float) -> str:
    return (
        f"# {line}: {points:g} points. Runs the public tests of this line with the grader; graded, the hidden ones too.\n"
        "_parlab_hidden = False\n"
        "### BEGIN HIDDEN TESTS\n"
        "_parlab_hidden = True\n"
        "### END HIDDEN TESTS\n"
        f'{CHECK_MARK}.check("{assignment_id}", "{line}", hidden=_parlab_hidden)'
    )


def _how_graded(assignment: Assignment) -> str:
    return (
        "## How this notebook is graded\n\n"
        "Write each function where it says `# YOUR CODE HERE`; your own helper functions, kernels and constants go in "
        "the helpers cell. Each test cell at the end grades one rubric line with the course's grader: it runs the "
        "tests of that line on the definitions of the cells you ran (imports, functions, classes and assignments; "
        "demos, prints and top-level loops are not run when grading) and shows the points.\n\n"
        "A speed line is timed against what this machine can deliver. If the machine cannot judge it (too busy, "
        "one core, no GPU), the cell stops with an error that starts with **PENDING**: that line is graded later on "
        "a machine that can, and its 0 here is not a grade."
    )


def _helpers_cell(texts: list[str]) -> tuple[str, str, dict]:
    body = "\n\n".join(texts)
    text = "# Your helper functions, kernels and constants (optional)\n# BEGIN SOLUTION\n" + body + "\n# END SOLUTION"
    return ("code", text, _meta("helpers", solution=True))


def _solution_function(solution: str, stub: ast.FunctionDef | None) -> str:
    """The stub's signature and docstring, then the solution's body inside a solution region."""
    tree = ast.parse(solution)
    fn = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    lines = solution.splitlines()
    body = fn.body
    doc = ast.get_docstring(stub) if stub is not None else ast.get_docstring(fn)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and len(body) > 1:
        body = body[1:]
    head = "\n".join(lines[: fn.body[0].lineno - 1])  # decorators and signature, not the solution's docstring
    indent = " " * body[0].col_offset
    text = "\n".join(lines[body[0].lineno - 1 : fn.end_lineno])
    quoted = '"""' + (doc or "Your code here.").replace('"""', "'''") + '"""'
    docstring = "\n".join(indent + ln if ln else ln for ln in quoted.splitlines())
    return f"{head}\n{docstring}\n{indent}# BEGIN SOLUTION\n{text}\n{indent}# END SOLUTION"


def _definitions(source: str) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _names(text: str) -> set[str]:
    out = set()
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
    return out
