"""Grade one submission of one assignment: choose the tests, run them in a worker, build the report."""

from __future__ import annotations

import time
from pathlib import Path

from .course import Assignment
from .devices import choose_backend, describe_machine, worker_environment
from .results import GradeReport
from .sandbox import WorkerError, run_worker


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
    tests = list(assignment.public_tests)
    if hidden:
        if not assignment.hidden_tests:
            raise GradingError(
                f"no hidden tests for {assignment.id} at {assignment.hidden_dir}: `grader grade` needs the "
                "course repository (students: use `grader test`, which runs the public tests)",
                usage=True,
            )
        tests += assignment.hidden_tests
    if not tests:
        raise GradingError(f"{assignment.folder} has no test_*.py files", usage=False)
    try:
        backend, gpu_name = choose_backend(gpu)
    except ValueError as exc:
        raise GradingError(str(exc), usage=True) from None
    machine = describe_machine(backend, gpu_name)
    try:
        run = run_worker(
            assignment.folder,
            submission,
            tests,
            env_extra=worker_environment(backend, machine.cores),
            select=list(select or []),
            test_timeout=assignment.spec.test_timeout,
            # Trusted grading times the staff solution alongside, as a reference for the speedup.
            solution=assignment.solution_dir if hidden and assignment.solution_dir.is_dir() else None,
        )
    except WorkerError as exc:
        raise GradingError(f"{assignment.id}: {exc}", usage=False) from None
    errors: list[str] = []
    if not submission.is_dir():
        errors.append(f"submission folder {submission} does not exist")
    elif not (submission / f"{assignment.spec.module}.py").is_file():
        errors.append(f"{assignment.spec.module}.py is missing from the submission folder {submission}")
    ordered = [run.records[n] for n in run.expected]
    return GradeReport(
        assignment=assignment.id,
        title=assignment.spec.title,
        submission=str(submission),
        machine=machine,
        tests=tuple(ordered),
        visibility="all" if hidden else "public",
        errors=tuple(errors),
        duration=time.monotonic() - started,
    )
