"""The pytest plugin that turns assignment tests into graded result records.

Loaded with ``-p grader.worker.plugin`` in the grading worker, it is active only when
``--parlab-assignment`` is given. It:

- validates every test's ``grade`` marker against the spec (unknown task, part or kind is a usage
  error that names the test);
- provides fixtures: ``impl`` (the submission's module, imported by path, fresh per run, nothing
  left on ``sys.path``), ``reference`` (the released module with the staff serial references),
  ``spec``, ``cores``, ``gpu`` and ``grading`` (partial credit and metrics);
- makes one `TestRecord` per test and sends it over the result channel;
- right after collection, before any student code runs: deletes the copies of the hidden test
  files (``--parlab-hidden``) and of the staff solution, imports the staff modules, and notes the
  identity of everything a verdict depends on (`integrity.TamperGuard`); a test after which any of
  it was replaced, and every later test, is recorded as an error.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

import numpy.testing  # noqa: F401 - imported before student code, so the guard watches it
import pytest

from ..core.devices import BACKEND_ENV, usable_cores
from ..core.results import TAMPERED, Status, TestRecord
from ..core.spec import AssignmentSpec, Kind, RubricLine, line_selected, load_spec
from . import calibration, numba_cache, speed, timing  # noqa: F401 - imported (clocks bound) before any student code
from .channel import ChannelWriter
from .gpu import GpuContext, match_cpu_arithmetic
from .simulator import strict as strict_simulator
from .tamper_guard import TamperGuard, grader_modules
from .testkit import Deferred, Grading

MESSAGE_LIMIT = 600
RECORD_KEY = pytest.StashKey[dict]()  # the test's rubric line, from its grade marker
_STARTED = pytest.StashKey[float]()
_DONE = pytest.StashKey[bool]()  # its record has been made
_GRADING = pytest.StashKey[Grading]()


class SubmissionError(Exception):
    """The submission's module cannot be used at all (missing, syntax error, raised on import)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("parlab", "parlab grading")
    group.addoption("--parlab-assignment", metavar="DIR", help="assignment folder (holds assignment.toml)")
    group.addoption("--parlab-submission", metavar="DIR", help="folder holding the student's module")
    group.addoption("--parlab-submission-label", metavar="TEXT", help="how messages name the submission (its original path)")
    group.addoption("--parlab-solution", metavar="DIR", help="reference solution folder (trusted grading): timed alongside")
    group.addoption(
        "--parlab-hidden",
        metavar="DIR",
        help="folder of hidden test files: their tests are hidden, the folder is deleted after collection",
    )
    group.addoption(
        "--parlab-select",
        action="append",
        default=[],
        metavar="TASK[.PART[.KIND]]",
        help="grade only matching rubric lines, e.g. fourier, fourier.cpu, *.*.correctness (repeatable)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "grade(task, part='python', kind='correctness', points=1): the rubric line a test earns points for"
    )
    folder = config.getoption("--parlab-assignment")
    if not folder:
        return
    solution = config.getoption("--parlab-solution")
    hidden = config.getoption("--parlab-hidden")
    state = _State(
        Path(folder),
        Path(config.getoption("--parlab-submission") or folder),
        Path(solution) if solution else None,
        Path(hidden) if hidden else None,
    )
    state.submission_label = config.getoption("--parlab-submission-label") or str(state.submission)
    config.stash[_STATE] = state


class _State:
    def __init__(self, assignment: Path, submission: Path, solution: Path | None, hidden: Path | None) -> None:
        self.assignment = assignment.resolve()
        self.submission = submission.resolve()
        self.solution = solution.resolve() if solution else None
        self.hidden = hidden.resolve() if hidden else None
        self.spec: AssignmentSpec = load_spec(self.assignment)
        self.channel = ChannelWriter()
        self.modules: dict[str, ModuleType | SubmissionError] = {}
        self.records: list[TestRecord] = []
        self.guard = TamperGuard()
        self.submission_label = str(self.submission)
        self.tampered: list[str] = []  # replaced and could not be restored: every later test is an error
        self.exit_status: int | None = None  # set when the session is over (then the worker leaves at once)


_STATE = pytest.StashKey[_State]()


def _state(config: pytest.Config) -> _State | None:
    return config.stash.get(_STATE, None)


# --------------------------------------------------------------------------- collection


def _grade_marker(item: pytest.Item, spec: AssignmentSpec) -> dict:
    marker = item.get_closest_marker("grade")
    where = f"{item.nodeid}"
    if marker is None:
        raise pytest.UsageError(f"{where}: every graded test needs @grade(task, part, kind, points)")
    if marker.args:
        raise pytest.UsageError(f"{where}: pass grade() arguments by keyword")
    meta = dict(marker.kwargs)
    task, part, kind = meta.get("task"), meta.get("part", "python"), meta.get("kind", "correctness")
    points = meta.get("points", 1.0)
    try:
        spec.part(task, part)
    except (KeyError, ValueError):
        known = ", ".join(dict.fromkeys(f"{line.task}.{line.part}" for line in spec.lines()))
        raise pytest.UsageError(f"{where}: grade(task={task!r}, part={part!r}) is not in the spec (known: {known})") from None
    kinds = [k.value for k in Kind]
    if kind not in kinds:
        raise pytest.UsageError(f"{where}: grade(kind={kind!r}) must be one of {', '.join(kinds)}")
    if RubricLine(task, part, kind) not in spec.lines():
        raise pytest.UsageError(f"{where}: the spec gives {task}.{part} no {kind} points")
    if not isinstance(points, (int, float)) or points < 0:
        raise pytest.UsageError(f"{where}: grade(points={points!r}) must be a number >= 0")
    return {"task": task, "part": part, "kind": kind, "points": float(points)}


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = _state(config)
    if state is None:
        return
    patterns = config.getoption("--parlab-select")
    keep, drop = [], []
    for item in items:
        meta = _grade_marker(item, state.spec)
        hidden = state.hidden is not None and item.path.resolve().is_relative_to(state.hidden)
        meta["visibility"] = "hidden" if hidden else "public"
        meta["name"] = item.name
        own = _own_timeout(item, state.spec.test_timeout)
        if own is not None:
            meta["timeout"] = own
        item.stash[RECORD_KEY] = meta
        (keep if selected(meta, patterns) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _own_timeout(item: pytest.Item, spec_limit: float) -> float | None:
    """A shorter limit a test sets for itself with ``@pytest.mark.timeout(seconds)`` (pytest-timeout
    enforces it in the worker); the parent names it when the test is stopped. None: the spec's limit."""
    marker = item.get_closest_marker("timeout")
    if marker is None:
        return None
    value = marker.args[0] if marker.args else marker.kwargs.get("timeout")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if 0 < seconds < spec_limit else None


def selected(meta: dict, patterns: list[str]) -> bool:
    """Does a test's rubric line match any TASK[.PART[.KIND]] pattern? No patterns: all do."""
    return line_selected((meta["task"], meta["part"], meta["kind"]), patterns)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A test file that does not import is the course's bug: kept, so the parent can name it."""
    if report.failed:
        _collection_errors.append(f"{report.nodeid}: {_last_lines(report.longreprtext, 12)}")


_collection_errors: list[str] = []


def _last_lines(text: str, n: int) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-n:])


def pytest_collection_finish(session: pytest.Session) -> None:
    state = _state(session.config)
    if state is None or any(RECORD_KEY not in item.stash for item in session.items):
        return  # a marker was refused while collecting: its UsageError is the message to show
    if _collection_errors:  # before any student code ran: this can only come from the course's files
        state.channel.send("collection_error", errors=_collection_errors)
        return
    tests = [{"nodeid": item.nodeid, **item.stash[RECORD_KEY]} for item in session.items]
    state.channel.send("collected", tests=tests)
    _before_student_code(state, session.items)


def _before_student_code(state: _State, items: list[pytest.Item]) -> None:
    """Remove what student code must not read, load the staff modules, and watch what verdicts rely on."""
    _one_numba_thread_per_core()
    numba_cache.cacheable_thread_count()
    numba_cache.cache_functions(calibration)
    if os.environ.get(BACKEND_ENV) == "cuda":
        match_cpu_arithmetic()  # kernels compute what the serial references compute, bit for bit
    if os.environ.get(BACKEND_ENV) == "cudasim" and _runs_kernels(items):
        for owner, name in strict_simulator.install():  # races, missing syncs and stray indices fail under the simulator
            state.guard.watch_attribute(owner, name, f"CUDA simulator {getattr(owner, '__name__', owner)}.{name}")
    if state.hidden is not None:
        shutil.rmtree(state.hidden, ignore_errors=True)  # collected: the source is no longer needed
    timed_against_solution = any("solution" in getattr(item, "fixturenames", ()) for item in items)
    for which in ("reference", "solution"):
        if which == "reference" or (state.solution is not None and timed_against_solution):
            try:
                state.guard.watch_module(_module(state, which))
            except SubmissionError:
                pass  # reported by the tests that use it
    if state.solution is not None:
        shutil.rmtree(state.solution, ignore_errors=True)
    state.guard.watch_defaults()
    for module in grader_modules():
        state.guard.watch_module(module)
    for module in {id(item.module): item.module for item in items if getattr(item, "module", None)}.values():
        state.guard.watch_module(module)


def _runs_kernels(items: list[pytest.Item]) -> bool:
    """A GPU line other than speed is selected: only those run kernels in the simulator (speed lines
    need a real GPU), so a run of CPU lines or speed lines skips installing the strict simulator (~0.25 s)."""
    return any(item.stash[RECORD_KEY]["part"] == "gpu" and item.stash[RECORD_KEY]["kind"] != "performance" for item in items)


def _one_numba_thread_per_core() -> None:
    """prange runs one thread per usable core, as on any machine with that many. The worker may start
    more (NUMBA_NUM_THREADS is `devices.RACE_THREADS`): hidden race tests raise the count for their
    own calls and set it back."""
    import numba

    numba.set_num_threads(max(1, min(usable_cores(), numba.config.NUMBA_NUM_THREADS)))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    state = _state(item.config)
    if state is not None:
        item.stash[_STARTED] = time.perf_counter()
        state.channel.send("start", nodeid=item.nodeid)


# --------------------------------------------------------------------------- fixtures


def _load_module(path: Path, name: str, label: str, folder_label: str | None = None) -> ModuleType:
    """Import a file by path under a private name; the submission's folder is on sys.path only meanwhile."""
    if not path.is_file():
        raise SubmissionError(f"{label} not found: expected the file {path.name} in {folder_label or path.parent}")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    saved_path = list(sys.path)
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        line = (exc.text or "").strip()
        raise SubmissionError(
            f"{path.name} line {exc.lineno}: SyntaxError: {exc.msg}" + (f"\n    {line}" if line else "")
        ) from None
    except SystemExit as exc:
        sys.modules.pop(name, None)
        raise SubmissionError(f"{path.name} called sys.exit({exc.code!r}) while being imported") from None
    except BaseException as exc:  # noqa: BLE001 - any failure of student code at import is reported
        sys.modules.pop(name, None)
        raise SubmissionError(f"importing {path.name} raised {_describe_exception(exc, path.parent)}") from None
    finally:
        sys.path[:] = saved_path
    return module


def _module(state: _State, which: str) -> ModuleType:
    if which not in state.modules:
        folder = {"submission": state.submission, "reference": state.assignment, "solution": state.solution}[which]
        label = {"submission": f"student module {state.spec.module_file}"}.get(which, f"{which} module")
        if which == "submission" and not folder.is_dir():
            state.modules[which] = SubmissionError(f"submission folder {state.submission_label} does not exist")
        else:
            try:
                state.modules[which] = _load_module(
                    folder / state.spec.module_file,
                    f"parlab_{which}_{state.spec.module}",
                    label,
                    state.submission_label if which == "submission" else None,
                )
                numba_cache.cache_functions(state.modules[which], course=which != "submission")  # see numba_cache
                if which == "submission":
                    _name_missing_functions(state.modules[which], state.spec.module_file)
            except SubmissionError as exc:
                state.modules[which] = exc
    found = state.modules[which]
    if isinstance(found, SubmissionError):
        raise found
    return found


def _name_missing_functions(module: ModuleType, module_file: str) -> None:
    """A test asking the student's module for a function it lacks reads "speedup.py defines no
    'karp_flatt'", not "module 'parlab_submission_speedup' has no attribute …" (our internal name).
    A module that defines its own ``__getattr__`` keeps it."""
    if "__getattr__" in vars(module):
        return

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"{module_file} defines no {name!r}: not written yet, misspelt, or (in a notebook) in a cell that was left out"
        )

    module.__getattr__ = __getattr__  # type: ignore[attr-defined]  # PEP 562: asked only for names the module lacks


def _require_state(request: pytest.FixtureRequest) -> _State:
    state = _state(request.config)
    if state is None:
        raise pytest.UsageError("graded tests run through `grader test` / `grader grade` (or pass --parlab-assignment)")
    return state


@pytest.fixture
def impl(request: pytest.FixtureRequest) -> ModuleType:
    """The submission's module (e.g. speedup.py), imported once per grading run."""
    return _module(_require_state(request), "submission")


@pytest.fixture
def reference(request: pytest.FixtureRequest) -> ModuleType:
    """The released module from the course's own copy: its serial references are what speedups are measured against."""
    return _module(_require_state(request), "reference")


@pytest.fixture
def solution(request: pytest.FixtureRequest) -> ModuleType | None:
    """The staff reference solution when grading on a trusted machine (timed alongside), else None."""
    state = _require_state(request)
    return _module(state, "solution") if state.solution is not None else None


@pytest.fixture
def spec(request: pytest.FixtureRequest) -> AssignmentSpec:
    return _require_state(request).spec


@pytest.fixture
def cores() -> int:
    return usable_cores()


@pytest.fixture
def gpu() -> GpuContext:
    """The GPU backend chosen by the grader; defers the test when there is no way to run kernels."""
    ctx = GpuContext(os.environ.get(BACKEND_ENV, "none"))
    if ctx.backend == "none":
        raise Deferred("no CUDA GPU and no CUDA simulator on this machine; graded on the course GPU machine")
    return ctx


@pytest.fixture
def grading(request: pytest.FixtureRequest) -> Grading:
    g = Grading()
    request.node.stash[_GRADING] = g
    return g


# --------------------------------------------------------------------------- records


def _short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _describe_exception(exc: BaseException, student_dir: Path) -> str:
    """`TypeError: msg (speedup.py:41 in fourier_cpu)`: the exception and the student's own innermost frame."""
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        try:
            inside = Path(frame.filename).resolve().is_relative_to(student_dir)
        except (OSError, ValueError):
            inside = False
        if inside:
            where = f" ({Path(frame.filename).name}:{frame.lineno} in {frame.name})"
            break
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}{': ' + text if text else ''}{where}"


def _verdict(excinfo: pytest.ExceptionInfo | None, state: _State, grading: Grading | None) -> tuple[Status, float, str]:
    """Status, earned fraction and student-facing message of one finished test phase."""
    if excinfo is None:
        if grading is not None and grading.fraction is not None:
            f = grading.fraction
            status = Status.passed if f >= 1.0 else Status.partial if f > 0 else Status.failed
            return status, f, grading.message
        return Status.passed, 1.0, grading.message if grading else ""
    exc = excinfo.value
    if isinstance(exc, Deferred):
        return Status.deferred, 0.0, str(exc.msg)
    if isinstance(exc, strict_simulator.NotSimulated):  # a correct kernel may use what the simulator lacks
        return Status.deferred, 0.0, str(exc)
    if isinstance(exc, SubmissionError):
        return Status.error, 0.0, str(exc)
    if isinstance(exc, pytest.skip.Exception):
        return Status.error, 0.0, f"test was skipped, which never counts as passed: {exc.msg}"
    if isinstance(exc, NotImplementedError):
        where = _describe_exception(exc, state.submission).partition(" (")[2].rstrip(")")
        return Status.failed, 0.0, "not implemented yet" + (f": NotImplementedError at {where}" if where else "")
    if isinstance(exc, AssertionError):
        text = str(exc).split("\nassert ")[0].strip() or "assertion failed"
        return Status.failed, 0.0, text
    if isinstance(exc, SystemExit):
        return Status.error, 0.0, f"the code called sys.exit({exc.code!r}) during the test"
    return Status.failed, 0.0, "raised " + _describe_exception(exc, state.submission)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    state = _state(item.config)
    if state is None or item.stash.get(_DONE, False):
        return report
    if call.when == "setup" and call.excinfo is None:
        return report
    if call.when == "teardown":
        return report
    meta = item.stash[RECORD_KEY]
    grading = item.stash.get(_GRADING, None)
    status, fraction, message = _verdict(call.excinfo, state, grading)
    replaced = state.guard.changes()
    flags: tuple[str, ...] = ()
    if replaced:
        stuck = state.guard.restore()
        shown = ", ".join(replaced[:3]) + (f" and {len(replaced) - 3} more" if len(replaced) > 3 else "")
        message = f"tampering detected: {shown} replaced during this test (not allowed in graded code); no points for it"
        status, fraction, flags = Status.error, 0.0, (TAMPERED,)
        state.tampered = stuck
    elif state.tampered:  # something could not be put back: nothing after it can be trusted
        message = f"not graded: the grader's environment was tampered with in an earlier test ({state.tampered[0]})"
        status, fraction = Status.error, 0.0
    points = meta["points"]
    record = TestRecord(
        name=meta["name"],
        task=meta["task"],
        part=meta["part"],
        kind=meta["kind"],
        status=status,
        score=round(points * fraction, 4) if status.counts_as_earned else 0.0,
        max_score=points,
        message=_short(message),
        metrics=dict(grading.metrics) if grading else {},
        visibility=meta["visibility"],
        duration=round(time.perf_counter() - item.stash.get(_STARTED, time.perf_counter()), 4),
        nodeid=item.nodeid,
        flags=flags,
    )
    item.stash[_DONE] = True
    state.records.append(record)
    state.channel.send("record", record=record.to_dict())
    broken = _broken_gpu_context(call.excinfo)
    if broken:  # every later GPU call in this process would fail too: the rest run in a fresh worker
        state.channel.send("restart", reason=f"{item.nodeid} left the GPU context unusable ({broken})")
        os._exit(0)
    return report


# CUDA errors after which a process's context stays broken ("sticky"): an out-of-bounds access in a
# kernel is the usual cause. Driver codes 700 (illegal address), 715-719 (illegal instruction,
# misaligned address, invalid address space, invalid PC, launch failed).
STICKY_CUDA = (
    "ILLEGAL_ADDRESS",
    "IllegalAddress",
    "illegal memory access",
    "ILLEGAL_INSTRUCTION",
    "MISALIGNED_ADDRESS",
    "INVALID_ADDRESS_SPACE",
    "INVALID_PC",
    "LAUNCH_FAILED",
    "unspecified launch failure",
)
STICKY_CUDA_CODES = {700, 715, 716, 717, 718, 719}


def _broken_gpu_context(excinfo) -> str:
    """The sticky CUDA error behind a test's failure, if any ('' otherwise), following the exception chain."""
    exc = excinfo.value if excinfo is not None else None
    seen = 0
    while exc is not None and seen < 10:
        text = f"{type(exc).__name__}: {exc}"
        code = getattr(exc, "code", None)
        if "CUDA" in text.upper() and (any(s in text for s in STICKY_CUDA) or code in STICKY_CUDA_CODES):
            return text[:200]
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return ""


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = _state(config)
    if state is None or state.channel.connected:
        return
    score = sum(r.score for r in state.records)
    total = sum(r.max_score for r in state.records)
    terminalreporter.write_sep("-", f"parlab points: {score:g}/{total:g}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    if state is not None and int(exitstatus) in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        state.exit_status = int(exitstatus)  # otherwise pytest still has to print why (a refused marker, say)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """A graded worker leaves at once when its session is over: every record is on the channel, and
    Python's own teardown (numba's thread pool, LLVM, the simulator's modules) took 0.5 s of every
    grading's 2 s of fixed cost (benchmarks/README.md, "CI time")."""
    state = _state(config)
    if state is None or not state.channel.connected or state.exit_status is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(state.exit_status)
