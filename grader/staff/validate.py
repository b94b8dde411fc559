"""`grader validate`: prove an assignment is gradable before students ever see it.

Checks, in order: the spec loads; stub and solution define the spec's functions with identical
signatures (and identical serial references, since timings trust the released copy); the tests'
points add up to the spec's rubric; the solution earns every point this machine can judge; the
untouched stub earns nothing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..core.course import Assignment
from ..core.results import GradeReport, Status
from ..core.spec import AssignmentSpec, line_selected
from ..run.grade import GradingError, grade_submission
from .release import ReleaseError, release_leaks


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Validation:
    assignment: str
    checks: list[Check] = field(default_factory=list)
    reports: dict[str, GradeReport] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, ok, detail))


def _functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}


def _signature(fn: ast.FunctionDef) -> str:
    return f"{fn.name}({ast.unparse(fn.args)})"


def compare_api(stub: Path, solution: Path, required: list[str]) -> list[str]:
    """Problems with the stub/solution API: missing functions, differing signatures or serial references."""
    problems: list[str] = []
    try:
        stub_fns, sol_fns = _functions(stub), _functions(solution)
    except (OSError, SyntaxError) as exc:
        return [f"cannot read {getattr(exc, 'filename', '') or exc}: {exc}"]
    for name in required:
        for label, fns in (("stub", stub_fns), ("solution", sol_fns)):
            if name not in fns:
                problems.append(f"{label} does not define {name}() required by the spec")
    for name in sorted(set(stub_fns) & set(sol_fns)):
        if _signature(stub_fns[name]) != _signature(sol_fns[name]):
            problems.append(f"signatures differ: stub {_signature(stub_fns[name])} vs solution {_signature(sol_fns[name])}")
    only_stub = sorted(set(stub_fns) - set(sol_fns))
    if only_stub:
        problems.append(f"functions only in the stub: {', '.join(only_stub)}")
    return problems


def _code_only(fn: ast.FunctionDef) -> str:
    """The function's AST without its docstring: the stub may document what the solution need not."""
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        if isinstance(body[0].value.value, str):
            body = body[1:]
    clone = ast.FunctionDef(
        name=fn.name, args=fn.args, body=body, decorator_list=fn.decorator_list, returns=fn.returns, type_comment=None
    )
    return ast.dump(clone, include_attributes=False)


def course_code(stub: Path, solution: Path, spec: AssignmentSpec) -> list[str]:
    """The functions the course gives students: the serial references, and whatever else both files
    define that students do not write (kernels, pipeline stages, a baseline schedule)."""
    serials = [t.serial for t in spec.tasks if t.serial]
    given = sorted((set(_functions(stub)) & set(_functions(solution))) - set(spec.functions()) - set(serials))
    return serials + given


def compare_serial(stub: Path, solution: Path, serials: list[str]) -> list[str]:
    """The serial references (and other course code) must be the same in stub and solution: timings trust the stub's."""
    problems = []
    stub_fns, sol_fns = _functions(stub), _functions(solution)
    for name in serials:
        missing = [label for label, fns in (("stub", stub_fns), ("solution", sol_fns)) if name not in fns]
        if missing:  # a misspelt `serial =` would otherwise compare nothing and read ok
            problems.append(f"{name}() is not defined in the {' or the '.join(missing)}: nothing to compare")
            continue
        a, b = (_code_only(f) for f in (stub_fns[name], sol_fns[name]))
        if a != b:
            problems.append(f"{name} differs between stub and solution (timings use the stub's copy)")
    return problems


def _line_problems(report: GradeReport, assignment: Assignment, select: list[str]) -> list[str]:
    expected = {line: points for line, points in assignment.spec.lines().items() if line_selected(line, select)}
    got = {lr.line: lr.max_score for lr in report.lines()}
    problems = []
    for line, points in expected.items():
        have = got.get(line, 0.0)
        if abs(have - points) > 1e-6:
            problems.append(f"{line}: tests give {have:g} points, spec says {points:g}")
    return problems


def validate_assignment(
    assignment: Assignment,
    *,
    gpu: str | None = None,
    select: list[str] | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> Validation:
    """Every check below; with ``select`` (TASK[.PART[.KIND]] patterns, as `grade -s`) the solution
    and the stub are graded on those rubric lines only (e.g. the correctness lines on a busy machine
    and the speed lines later on a quiet one)."""
    select = list(select or [])
    v = Validation(assignment.id)
    spec = assignment.spec
    tasks = f"{len(spec.tasks)} task{'s' if len(spec.tasks) != 1 else ''}"
    v.add("spec loads", True, f"{tasks}, {spec.max_score:g} points")
    stub, solution = assignment.stub_module, assignment.solution_module
    if not solution.is_file():
        v.add("solution exists", False, f"no {solution}")
        return v
    api = compare_api(stub, solution, spec.functions())
    v.add("stub and solution share the API", not api, "; ".join(api) or f"{len(spec.functions())} functions match")
    shared = course_code(stub, solution, spec)
    drift = compare_serial(stub, solution, shared)
    v.add("course code identical", not drift, "; ".join(drift) or ", ".join(shared))
    try:
        leaks = release_leaks(assignment)
        found = "; ".join(f"{where}: {line[:60]}" for where, line in leaks[:3])
        v.add("release leaks nothing", not leaks, found or "no solution or hidden-test line in the student files")
    except ReleaseError as exc:
        v.add("release leaks nothing", False, f"the release could not be built: {exc}")
    v.add("hidden tests present", bool(assignment.hidden_tests), str(assignment.hidden_dir))
    if not assignment.hidden_tests:
        return v
    try:
        progress(f"{assignment.id}: grading the reference solution")
        sol = grade_submission(assignment, solution.parent, hidden=True, gpu=gpu, select=select)
        progress(f"{assignment.id}: grading the untouched stub")
        stub_report = grade_submission(assignment, assignment.folder, hidden=True, gpu=gpu, select=select)
    except GradingError as exc:
        v.add("tests run", False, str(exc))
        return v
    v.reports = {"solution": sol, "stub": stub_report}
    problems = _line_problems(sol, assignment, select)
    counted = f"{sol.max_score:g} points in {len(sol.tests)} tests"
    v.add("test points match the spec", not problems, "; ".join(problems) or counted)
    lost = [t for t in sol.tests if t.status is not Status.deferred and t.score < t.max_score - 1e-9]
    v.add(
        "solution earns every gradable point",
        not lost,
        "; ".join(f"{t.name}: {t.status.value} {t.score:g}/{t.max_score:g} {t.message}" for t in lost)
        or f"{sol.score:g}/{sol.gradable_max:g} (+{sol.deferred_points:g} pending on this machine)",
    )
    earned = [t for t in stub_report.tests if t.score > 0]
    v.add(
        "untouched stub earns zero",
        not earned,
        "; ".join(f"{t.name}: {t.score:g}" for t in earned) or f"0/{stub_report.gradable_max:g}",
    )
    return v
