"""What the notebook export tests share: the known-wrong files they plant, what `grader grade`
gives the same code, line by line, and the check that an exported notebook holds the course's code.

Each tool's test exports every notebook assignment (a1, a2, a4) and checks, without running the
tool's grading, that the student notebook gives nothing away and that the module the grader makes
of the notebook defines exactly what the reference solution defines (so its grading is the one
`grader validate` proves). Each autograde through the tool is a full hidden grading in a fresh
kernel (20 to 60 s here), and the route from a notebook to the grading engine is the same whatever
the assignment: the reference, the stub and the known-wrong files go through the tools for one
assignment, `GRADED`, whose CPU races and GPU kernels are the hardest for that route. Its two
known-wrong files are split between the tools.
"""

from __future__ import annotations

import ast
import json
import tempfile
from pathlib import Path

from grader.core.course import Course
from grader.notebooks.cells import cell
from grader.notebooks.check import CHECK_MARK
from grader.run.grade import grade_submission
from grader.run.notebook import cells_to_module

from ..conftest import ROOT

ASSIGNMENTS = ["a1_speedup", "a2_races", "a4_matmul"]
GRADED = "a2_races"  # the assignment each tool grades end to end (see the module docstring)
WRONG = ["racy_histogram_cpu", "missing_syncthreads_dot_gpu"]  # GRADED's known-wrong files (tests/wrong/) for the tools


def wrong_files(tool: str) -> list[str]:
    """The known-wrong file one tool's test plants: nbgrader the first, otter the second (the route
    is the same whatever the file, so each goes through one tool)."""
    return WRONG[::2] if tool == "nbgrader" else WRONG[1::2]


def _bindings(source: str) -> dict[str, str]:
    """What a module ends up defining: each top-level name and the AST of the last statement that
    binds it (docstrings and `from __future__` left out; a notebook's module leaves those out)."""
    out: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if len(node.body) > 1 and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
                node.body = node.body[1:]
            out[node.name] = ast.dump(node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                out[alias.asname or alias.name.split(".")[0]] = ast.dump(alias) + str(getattr(node, "module", ""))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for name in (n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)):
                out[name] = ast.dump(node)
    return out


def notebook_holds_the_solution(nb: dict, solution: Path) -> bool:
    """Whether the module the grader makes of the notebook's code cells (its test cells left out)
    binds the names the solution file binds, each to the same code: then grading it is grading the
    solution, which `grader validate` proves gets every point."""
    code = ("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")  # a str or a list of lines
    module = cells_to_module([text for text in code if CHECK_MARK not in text]).source
    return _bindings(module) == _bindings(solution.read_text())


def wrong_code(ident: str, name: str) -> str:
    return (ROOT / "tests" / "wrong" / ident / f"{name}.py").read_text()


def grader_correctness(ident: str, name: str) -> dict[str, float]:
    """What `grader grade` gives the reference solution with a known-wrong file appended, per
    correctness line (hidden tests, simulator)."""
    a = Course(ROOT).resolve(ident)
    with tempfile.TemporaryDirectory(prefix="parlab-known-") as tmp:
        (Path(tmp) / a.spec.module_file).write_text(a.solution_module.read_text() + "\n\n" + wrong_code(ident, name))
        report = grade_submission(a, Path(tmp), hidden=True, gpu="cudasim", select=["*.*.correctness"])
    return {str(lr.line): lr.score for lr in report.lines()}


def with_student_cell(nb: dict, code: str, before) -> dict:
    """The notebook with one more code cell (where a student would add it) before the first cell
    for which ``before(cell)`` holds."""
    nb = json.loads(json.dumps(nb))
    at = next(i for i, c in enumerate(nb["cells"]) if before(c))
    nb["cells"].insert(at, {"id": "student-extra", **cell("code", code)})
    return nb


def correctness(lines: dict[str, float]) -> dict[str, float]:
    """The correctness lines (named with dots, as nbgrader's grade ids, or underscores, as otter's questions)."""
    return {k: v for k, v in lines.items() if k.endswith((".correctness", "_correctness"))}
