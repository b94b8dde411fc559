"""Grade one submission of one assignment: choose the tests, run them in a worker, build the report."""

from __future__ import annotations

import ast
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from ..core.course import GRADER_PACKAGE, Assignment
from ..core.devices import NUMBA_CACHE_ENV, TIMING_ENV, choose_backend, describe_machine, timing_mode, worker_environment
from ..core.results import TAMPERED, WITHHELD, GradeReport, TestRecord
from ..core.spec import Kind, line_selected, unknown_selectors
from .fingerprints import course_fingerprint, fingerprint_changes, protected_changes
from .isolation import Isolation, IsolationUnavailable, require
from .leaks import quotes_secret, secret_lines
from .notebook import NotebookError, notebook_for, write_module
from .sandbox import WorkerError, WorkerRun, run_worker


def is_released_stub(module: Path, stub: Path) -> bool:
    """The student's module is byte for byte the stub the course released."""
    try:
        return stub.is_file() and module.read_bytes() == stub.read_bytes()
    except OSError:
        return False


def module_findings(module: Path, stub: Path) -> list[str]:
    """What a TA should know at a glance: the student's module is the untouched stub, or does not parse."""
    try:
        text = module.read_bytes()
    except OSError:
        return []
    if is_released_stub(module, stub):
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


@dataclass(frozen=True)
class CourseCache:
    """A numba cache of the course's own compiled code for hidden speed workers (grade-all; see
    worker/numba_cache.py). ``fill``: this grading (the staff solution's) writes it; every other
    reads it through a read-only bind. Only workers that receive the solution anyway see it (it
    holds the solution's machine code), and only fully isolated ones (the bind is what keeps a
    submission from writing to it)."""

    folder: Path
    fill: bool = False


def fill_course_cache(assignment: Assignment, folder: Path, gpu: str | None) -> CourseCache | None:
    """Compile the course's code for the speed phase once, by grading the staff solution's speed
    lines into ``folder``: each submission's speed worker then loads the serial references, the
    solution and the machine probes instead of compiling them (~2 s a grading). None where workers
    are not fully isolated (a cache they could write to is one grading planting code for the next)
    or with PARLAB_NUMBA_CACHE=off."""
    if _graded_cache_folder(folder) is None:
        return None
    fill = CourseCache(folder, fill=True)
    grade_submission(assignment, assignment.solution_dir, hidden=True, gpu=gpu, select=["*.*.performance"], course_cache=fill)
    return CourseCache(folder)


def student_cache_folder(root: Path, student: str) -> Path | None:
    """A folder under ``root`` for one submission's own compiled code, kept across its gradings
    (grade-all: its correctness worker compiles the module, its speed worker loads it; see
    worker/numba_cache.py). Each worker sees its own submission's folder alone, so only fully
    isolated workers get one; None there, or with PARLAB_NUMBA_CACHE=off."""
    return _graded_cache_folder(root / hashlib.sha256(student.encode()).hexdigest()[:24])


def _graded_cache_folder(folder: Path) -> Path | None:
    """``folder`` made for compiled code that graded workers share through a bind, or None: only
    fully isolated workers (the bind is all they see of it), never with PARLAB_NUMBA_CACHE=off."""
    try:
        isolation = require()
    except IsolationUnavailable:
        return None
    if not isolation.full or _numba_cache_off():
        return None
    return _worker_folder(folder, isolation)


def grade_submission(
    assignment: Assignment,
    submission: Path,
    *,
    hidden: bool,
    gpu: str | None = None,
    select: list[str] | None = None,
    course_cache: CourseCache | None = None,
    student_cache: Path | None = None,
) -> GradeReport:
    """Run the public tests (and, with ``hidden``, the hidden ones) against ``submission``.

    A broken submission never raises: its tests are recorded as errors with a message. Only
    problems of the course itself (no hidden tests, a broken test file) raise `GradingError`.
    ``course_cache``: see `CourseCache`; ``student_cache``: see `student_cache_folder` (hidden runs only).
    """
    started = time.monotonic()
    submission = Path(submission).resolve()
    select = list(select or [])
    public, hidden_tests = _tests_to_run(assignment, hidden, select)
    try:
        backend, gpu_name = choose_backend(gpu)
        isolation = require()
    except ValueError as exc:
        raise GradingError(str(exc), usage=True) from None
    except IsolationUnavailable as exc:
        raise GradingError(str(exc), usage=True) from None
    machine = describe_machine(backend, gpu_name)
    with tempfile.TemporaryDirectory(prefix="parlab-notebook-") as scratch:
        folder, converted, errors = _module_folder(assignment, submission, Path(scratch))
        run = WorkerRun()
        for lines, with_solution in _worker_runs(assignment, select, hidden):
            part = _run_watched(
                assignment,
                folder,
                public,
                hidden_tests,
                backend,
                machine.cores,
                lines,
                isolation,
                with_solution,
                course_cache,
                student_cache,
            )
            run = run.merged(part)
        records, withheld = _withhold_secrets(assignment, [run.records[n] for n in run.expected], public)
        flags = [*converted, *run.notes, *withheld, *_ta_flags(assignment, submission, folder, public, records)]
        errors += _submission_errors(assignment, folder) if not errors else []
    return GradeReport(
        assignment=assignment.id,
        title=assignment.spec.title,
        submission=str(submission),
        machine=machine,
        tests=tuple(records),
        visibility="all" if hidden else "public",
        errors=tuple(errors),
        duration=round(time.monotonic() - started, 3),
        graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        flags=tuple(flags),
        isolation=isolation.level,
    )


def _module_folder(assignment: Assignment, submission: Path, scratch: Path) -> tuple[Path, list[str], list[str]]:
    """The folder holding the module to grade: the submission itself, or, for a notebook handed in
    instead of the module, ``scratch`` with the module made from its code cells (run/notebook.py).
    Also returns what the TA should know about the conversion, and errors that stop every test."""
    notebook = notebook_for(submission, assignment.spec.module_file)
    if notebook is None:
        return submission, [], []
    try:
        notes = write_module(notebook, scratch, assignment.spec.module_file)
    except NotebookError as exc:
        return scratch, [], [str(exc)]
    return scratch, [f"graded the code cells of {notebook.name}", *notes], []


def _tests_to_run(assignment: Assignment, hidden: bool, select: list[str]) -> tuple[list[Path], list[Path]]:
    """The public (and hidden) test files; a request that cannot be graded at all is refused here."""
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
    unknown = unknown_selectors(assignment.spec, select)
    if unknown:
        lines = ", ".join(str(line) for line in assignment.spec.lines())
        raise GradingError(
            f"{', '.join(repr(u) for u in unknown)} selects no rubric line of {assignment.id}; "
            f"give TASK, TASK.PART or TASK.PART.KIND (wildcards allowed) from: {lines}",
            usage=True,
        )
    return public, hidden_tests


def _worker_runs(assignment: Assignment, select: list[str], hidden: bool) -> list[tuple[list[str], bool]]:
    """The worker runs of one grading: (selectors, with the staff solution).

    Trusted grading times the staff solution next to the student's code on speed lines, so the
    solution is in that worker's memory, where the student's code could find it and call it. Speed
    lines therefore run in a worker of their own, and every other line in one that never received
    the solution: no correctness point can come from the staff's code. (A speed line still can: the
    reference would have to be timed in a separate process; see docs/threat-model.md.)
    """
    if not hidden or not assignment.solution_module.is_file():
        return [(select, False)]
    lines = [line for line in assignment.spec.lines() if line_selected(line, select)]
    timed = [str(line) for line in lines if line.kind == Kind.performance]
    untimed = [str(line) for line in lines if line.kind != Kind.performance]
    if not timed:
        return [(select, False)]
    if not untimed:
        return [(select, True)]
    return [(untimed, False), (timed, True)]


def _run_watched(
    assignment: Assignment,
    submission: Path,
    public: list[Path],
    hidden_tests: list[Path],
    backend: str,
    cores: int,
    select: list[str],
    isolation: Isolation,
    with_solution: bool,
    course_cache: CourseCache | None = None,
    student_cache: Path | None = None,
) -> WorkerRun:
    """Run the worker(s); the course on disk must be the same afterwards, or nothing is kept."""
    solution = assignment.solution_dir if with_solution else None  # timed alongside, as a reference for the speedup
    hidden = bool(hidden_tests)
    watched = [assignment.folder, assignment.hidden_dir, assignment.solution_dir, GRADER_PACKAGE]
    before = course_fingerprint(watched)
    cache = None if hidden else _numba_cache(isolation)
    course: Literal["fill", "read"] | None = None
    if hidden and course_cache is not None and with_solution and isolation.full and course_cache.folder.is_dir():
        cache, course = course_cache.folder.resolve(), "fill" if course_cache.fill else "read"
    read_only = course == "read"
    own = student_cache.resolve() if hidden and student_cache is not None and isolation.full and student_cache.is_dir() else None
    try:
        run = run_worker(
            assignment.folder,
            submission,
            public,
            hidden_tests,
            module=assignment.spec.module,
            env_extra=worker_environment(backend, cores, numba_cache=cache, course=course, student_cache=own),
            writable=[p for p in (None if read_only else cache, own) if p is not None],
            readable=[cache] if read_only else [],
            select=select,
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
    return run


def _numba_cache(isolation: Isolation) -> Path | None:
    """`grader test`'s numba cache (worker/numba_cache.py): $PARLAB_NUMBA_CACHE ("off": none), else
    ~/.cache/parlab/numba. Never for graded runs: a cache shared between gradings would let one
    submission plant machine code another grading loads."""
    if _numba_cache_off():
        return None
    value = os.environ.get(NUMBA_CACHE_ENV, "").strip()
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return _worker_folder(Path(value) if value else home / "parlab" / "numba", isolation)


def _numba_cache_off() -> bool:
    """PARLAB_NUMBA_CACHE=off: no numba cache at all, `grader test`'s nor grade-all's course cache."""
    return os.environ.get(NUMBA_CACHE_ENV, "").strip().lower() == "off"


def _worker_folder(folder: Path, isolation: Isolation) -> Path | None:
    """``folder`` made and handed to the worker's user, or None where that fails (then: no cache,
    every run compiles, as before)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if isolation.full and isolation.uid is not None:  # the worker runs as an unprivileged user
            os.chown(folder, isolation.uid, isolation.gid)
    except OSError:
        return None
    return folder.resolve()


def _submission_errors(assignment: Assignment, submission: Path) -> list[str]:
    """Problems outside any one test: no folder, no module (naming the Python files that are there)."""
    if not submission.is_dir():
        return [f"submission folder {submission} does not exist"]
    if (submission / assignment.spec.module_file).is_file():
        return []
    present = sorted(str(p.relative_to(submission)) for p in submission.rglob("*.py") if ".git" not in p.parts)[:10]
    seen = f"; Python files there: {', '.join(present)}" if present else "; it holds no Python file"
    return [f"{assignment.spec.module_file} is missing from the submission folder {submission}{seen}"]


def _withhold_secrets(
    assignment: Assignment, records: list[TestRecord], public: list[Path]
) -> tuple[list[TestRecord], list[str]]:
    """A message that quotes a hidden test or the solution (read from disk by the student's code)
    must not reach the student: it is withheld (a flag on the record) and the TA is told."""
    secrets = secret_lines(
        [*assignment.hidden_tests, assignment.solution_module],
        [*public, assignment.stub_module, assignment.folder / "README.md"],
    )
    out, flags = [], []
    for t in records:
        if quotes_secret(t.message, secrets):
            flags.append(f"{t.name}: its message quoted a course-internal file (withheld): {t.message[:200]}")
            t = replace(t, message="message withheld: it quoted a course-internal file", flags=(*t.flags, WITHHELD))
        out.append(t)
    return out, flags


def _ta_flags(assignment: Assignment, submission: Path, folder: Path, public: list[Path], records: list[TestRecord]) -> list[str]:
    """What a TA should look at: changed released files, an untouched or unparsable module, tampering."""
    flags = []
    if submission.is_dir():
        flags += protected_changes([*public, assignment.folder / "assignment.toml"], submission, assignment.spec.version)
    if folder.is_dir():
        flags += module_findings(folder / assignment.spec.module_file, assignment.stub_module)
    if timing_mode() in ("quick", "off") and any(t.kind == "performance" for t in records):
        how = "timed with few rounds" if timing_mode() == "quick" else "not timed"
        flags.append(f"speed lines {how} ({TIMING_ENV}={timing_mode()}, for the grader's own tests): not a grade")
    return flags + [f"{t.name}: {t.message}" for t in records if TAMPERED in t.flags]
