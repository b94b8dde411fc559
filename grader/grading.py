"""Grade one submission of one assignment: choose the tests, run them in a worker, build the report."""

from __future__ import annotations

import ast
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from .course import Assignment
from .devices import choose_backend, describe_machine, worker_environment
from .integrity import course_fingerprint, fingerprint_changes, protected_changes, quotes_secret, secret_lines
from .isolation import IsolationUnavailable, require
from .results import GradeReport, Status
from .sandbox import WorkerError, run_worker
from .spec import unknown_selectors


def module_findings(module: Path, stub: Path) -> list[str]:
    """What a TA should know at a glance: the student's module is the untouched stub, or does not parse."""
    try:
        text = module.read_bytes()
    except OSError:
        return []
    if stub.is_file() and text == stub.read_bytes():
        return [f"{module.name} is identical to the released stub: nothing was handed in"]
    try:
        ast.parse(text, filename=module.name)
    except SyntaxError as exc:
        return [f"{module.name} has a syntax error at line {exc.lineno}: {exc.msg}"]
    except ValueError as exc:  # null bytes
        return [f"{module.name} cannot be parsed: {exc}"]
    return []


class GradingError(Exception):
    """Grading could not be done at all; the message says how to fix it.

    ``usage`` tells a user's mistake (wrong flag, wrong repository) from a broken course.
    """

    def __init__(self, message: str, *, usage: bool) -> None:
        super().__init__(message)
        self.usage = usage


def grade_submission(
    assignment: Assignment,
    submission: Path,
    *,
    hidden: bool,
    gpu: str | None = None,
    select: list[str] | None = None,
) -> GradeReport:
    """Run the public tests (and, with ``hidden``, the hidden ones) against ``submission``.

    A broken submission never raises: its tests are recorded as errors with a message. Only
    problems of the course itself (no hidden tests, a broken test file) raise `GradingError`.
    """
    started = time.monotonic()
    submission = Path(submission).resolve()
    public = list(assignment.public_tests)
    hidden_tests = list(assignment.hidden_tests) if hidden else []
    if hidden and not hidden_tests:
        raise GradingError(
            f"no hidden tests for {assignment.id} at {assignment.hidden_dir}: `grader grade` needs the "
            "course repository (students: use `grader test`, which runs the public tests)",
            usage=True,
        )
    if not public and not hidden_tests:
        raise GradingError(f"{assignment.folder} has no test_*.py files", usage=False)
    unknown = unknown_selectors(assignment.spec, list(select or []))
    if unknown:
        lines = ", ".join(f"{t}.{p}.{k}" for t, p, k in assignment.spec.buckets())
        raise GradingError(
            f"{', '.join(repr(u) for u in unknown)} selects no rubric line of {assignment.id}; "
            f"give TASK, TASK.PART or TASK.PART.KIND (wildcards allowed) from: {lines}",
            usage=True,
        )
    try:
        backend, gpu_name = choose_backend(gpu)
    except ValueError as exc:
        raise GradingError(str(exc), usage=True) from None
    machine = describe_machine(backend, gpu_name)
    # Trusted grading times the staff solution alongside, as a reference for the speedup.
    solution = (
        assignment.solution_dir if hidden and (assignment.solution_dir / f"{assignment.spec.module}.py").is_file() else None
    )
    try:
        isolation = require()
    except IsolationUnavailable as exc:
        raise GradingError(str(exc), usage=True) from None
    watched = [assignment.folder, assignment.hidden_dir, assignment.solution_dir, Path(__file__).resolve().parent]
    before = course_fingerprint(watched)
    try:
        run = run_worker(
            assignment.folder,
            submission,
            public,
            hidden_tests,
            module=assignment.spec.module,
            env_extra=worker_environment(backend, machine.cores),
            select=list(select or []),
            test_timeout=assignment.spec.test_timeout,
            solution=solution,
            isolation=isolation,
            hide=[assignment.hidden_dir.parent, assignment.solution_dir.parent],  # every assignment's
        )
    except WorkerError as exc:
        raise GradingError(f"{assignment.id}: {exc}", usage=False) from None
    changed = fingerprint_changes(before, course_fingerprint(watched))
    if changed:
        raise GradingError(
            f"the course checkout changed while {submission} was graded ({'; '.join(changed[:5])}): a submission may "
            "have written to it. Restore it (git status / git checkout) before grading anything else; "
            "this submission's results were not kept",
            usage=False,
        )
    errors: list[str] = []
    if not submission.is_dir():
        errors.append(f"submission folder {submission} does not exist")
    elif not (submission / f"{assignment.spec.module}.py").is_file():
        present = sorted(str(p.relative_to(submission)) for p in submission.rglob("*.py") if ".git" not in p.parts)[:10]
        seen = f"; Python files there: {', '.join(present)}" if present else "; it holds no Python file"
        errors.append(f"{assignment.spec.module}.py is missing from the submission folder {submission}{seen}")
    ordered = [run.records[n] for n in run.expected]
    flags = list(run.notes)
    # A message that quotes a hidden test or the solution (read from disk by the student's code)
    # must not reach the student: withhold it, and tell the TA.
    secrets = secret_lines(
        [*assignment.hidden_tests, assignment.solution_dir / f"{assignment.spec.module}.py"],
        [*public, assignment.folder / f"{assignment.spec.module}.py", assignment.folder / "README.md"],
    )
    for i, t in enumerate(ordered):
        if quotes_secret(t.message, secrets):
            flags.append(f"{t.name}: its message quoted a course-internal file (withheld): {t.message[:200]}")
            ordered[i] = replace(t, message="message withheld: it quoted a course-internal file")
    if submission.is_dir():
        flags += protected_changes([*public, assignment.folder / "assignment.toml"], submission, assignment.spec.version)
        flags += module_findings(submission / f"{assignment.spec.module}.py", assignment.stub_module)
    flags += [
        f"{t.name}: {t.message}" for t in ordered if t.status is Status.error and t.message.startswith("tampering detected")
    ]
    return GradeReport(
        assignment=assignment.id,
        title=assignment.spec.title,
        submission=str(submission),
        machine=machine,
        tests=tuple(ordered),
        visibility="all" if hidden else "public",
        errors=tuple(errors),
        duration=round(time.monotonic() - started, 3),
        graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        flags=tuple(flags),
        isolation=isolation.level,
    )
