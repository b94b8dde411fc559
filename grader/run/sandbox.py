"""Run graded tests in a child process and believe only what arrives on the result channel.

The worker is `python -I -m pytest -p grader.worker.plugin` in its own session and process group, started
in a fresh scratch directory with a scrubbed environment, `--noconftest` and no ini file, so
nothing in the submission can hook into pytest or Python's start-up (`-I` ignores PYTHON* variables,
user site-packages and the current directory). The scratch directory holds a *copy* of the
submission (the student's folder is never written) and copies of the test files; the hidden ones
are deleted as soon as they are collected. Resource limits (`limits.py`) cap memory, file size, CPU
time and processes; the parent also counts the worker's processes every second and kills them all
past the limit (the kernel's process limit does not apply to root), and at the end kills every
process of the run, including ones that left the process group (found by a marker in their
environment). Each test is limited twice: by pytest-timeout inside the worker,
and by the parent, which follows the running test over the channel and kills the worker's process
group a few seconds after the limit (compiled code holding the GIL cannot be stopped from inside).
What the worker can touch (processes, files, network) is confined by `isolation.py`.
A test may set itself a shorter limit with `@pytest.mark.timeout(s)` (e.g. one that would otherwise
wait for a deadlocked student pipeline); pytest-timeout enforces it and the record names it.
The whole run also has a wall-clock deadline. When the worker
dies mid-test (timeout, crash, `os._exit`), that test is recorded as `timeout` or `error` and a
fresh worker runs the tests that remain. Tests that were expected but never reported are errors:
silence never earns points.
"""

from __future__ import annotations

import functools
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ..core.channel import parse_line
from ..core.course import SKIP_DIRS
from ..core.results import Status, TestRecord
from .channel import ParentChannel
from .isolation import Isolation, detect, python_paths
from .limits import Limits, describe_death

# Variables a worker inherits; everything else (PYTHONPATH, PYTHONSTARTUP, ...) is dropped.
PASSTHROUGH_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "VIRTUAL_ENV",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "CUDA_HOME",
    "CUDA_PATH",
    "CUDA_VISIBLE_DEVICES",  # the GPU (or MIG slice) the TA chose
    "CUDA_DEVICE_ORDER",
    "LD_LIBRARY_PATH",
)
OUTPUT_TAIL = 4000  # characters of worker output kept for diagnostics
DEADLINE_MARGIN_S = 60.0  # start-up and collection allowance on top of the tests' own timeouts
KILL_GRACE_S = 5.0  # pytest-timeout stops Python code at the limit; the parent kills the worker this much later
# (compiled code that holds the GIL cannot be interrupted from inside the worker at all)
MAX_RESTARTS = 50
RUN_MARKER_ENV = "PARLAB_RUN"  # every process of a run inherits it: how leftovers are found
MAX_FILE_COPIED_MB = 50  # files of the submission larger than this are not copied
MAX_SUBMISSION_MB = 200


class WorkerError(Exception):
    """The tests could not even be collected (a broken test file or spec): a grader problem, not a grade."""


@dataclass
class WorkerRun:
    """What the worker(s) reported: records per node id, in the order tests finished."""

    records: dict[str, TestRecord] = field(default_factory=dict)
    expected: dict[str, dict] = field(default_factory=dict)
    output_tail: str = ""
    restarts: int = 0
    notes: list[str] = field(default_factory=list)  # findings about the run itself (files skipped, processes killed)
    forged: set[str] = field(default_factory=set)  # tests with a result that the plugin did not send

    def merged(self, other: WorkerRun) -> WorkerRun:
        """This run and another one of the same grading (other lines), as one."""
        return WorkerRun(
            records={**self.records, **other.records},
            expected={**self.expected, **other.expected},
            output_tail=other.output_tail or self.output_tail,
            restarts=self.restarts + other.restarts,
            notes=list(dict.fromkeys([*self.notes, *other.notes])),
            forged=self.forged | other.forged,
        )


@dataclass(frozen=True)
class Layout:
    """One worker's scratch directory: paths relative to its working directory, the submission's copy.

    The same on every restart, so node ids stay the same; the student's code runs in a copy of
    its own folder (relative paths work as in their repository) and can change nothing that lasts.
    """

    scratch_to_cwd: str = "submission"
    submission: str = "."
    solution: str = "../solution"
    public: str = "../tests/public"
    hidden: str = "../tests/hidden"
    rootdir: str = "../tests"


LAYOUT = Layout()


def copy_submission(source: Path, dest: Path) -> list[str]:
    """Copy the student's folder (no .git, no environments; links kept as links, never followed).

    Returns notes about what was left out. A missing folder is copied as nothing: the plugin
    reports it per test.
    """
    notes: list[str] = []
    if not source.is_dir():
        return notes
    total = 0
    for root, dirs, files in os.walk(source, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        rel = Path(root).relative_to(source)
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in sorted(files):
            src = Path(root) / name
            if src.is_symlink():
                continue  # a link could point anywhere on the grading machine
            size = src.stat().st_size
            if size > MAX_FILE_COPIED_MB * 1024 * 1024 or total + size > MAX_SUBMISSION_MB * 1024 * 1024:
                limit = f"{MAX_FILE_COPIED_MB} MB per file / {MAX_SUBMISSION_MB} MB in all"
                notes.append(f"{rel / name} not copied: over the size limits ({limit})")
                continue
            shutil.copyfile(src, dest / rel / name)
            total += size
    return notes


def _worker_command(
    assignment: Path,
    submission: Path,
    with_solution: bool,
    with_hidden: bool,
    targets: list[str],
    select: list[str],
    timeout: float,
) -> list[str]:
    """The pytest command line, run with the scratch directory as its working directory."""
    cmd = [
        sys.executable, "-I", "-m", "pytest",
        "-p", "grader.worker.plugin",
        "-p", "pytest_timeout",  # the only installed plugin a worker loads (PYTEST_DISABLE_PLUGIN_AUTOLOAD)
        "-p", "no:cacheprovider",
        "--noconftest",
        "-c", os.devnull,
        "--rootdir", LAYOUT.rootdir,
        "-q", "--no-header", "-rN",
        f"--timeout={timeout:g}", "--timeout-method=thread",
        "--parlab-assignment", str(assignment),
        # A missing folder is named as it is, so the plugin reports it per test.
        "--parlab-submission", LAYOUT.submission if submission.is_dir() else str(submission),
        "--parlab-submission-label", submission.name,  # not its path: the student's folder is no place to write to
    ]  # fmt: skip
    if with_solution:
        cmd += ["--parlab-solution", LAYOUT.solution]
    if with_hidden:
        cmd += ["--parlab-hidden", LAYOUT.hidden]
    for pattern in select:
        cmd += ["--parlab-select", pattern]
    return cmd + targets


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    """Only PASSTHROUGH_ENV survives; `-I` makes the worker ignore PYTHON* variables anyway."""
    env = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
    env.update({"PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"})
    # Installed pytest plugins (xdist, anyio, randomly, ...) stay out of the worker: none of them is
    # part of grading, any of them could change how tests run, and finding them costs ~0.2 s a start.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.update(extra)
    return env


def _run_processes(session: int, marker: str) -> list[int]:
    """Processes of a run: in the worker's session, or carrying the run's marker (left the session)."""
    found = []
    needle = f"{RUN_MARKER_ENV}={marker}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            if fields[0] in (b"Z", b"X"):
                continue  # already dead, waiting to be reaped: nothing left to kill
            if int(fields[3]) == session:  # fields after the name: state ppid pgrp session ...
                found.append(int(entry))
                continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _kill_run(proc: subprocess.Popen, marker: str) -> int:
    """Kill the worker and every process of the run, repeatedly (a fork bomb keeps forking). Returns how many."""
    killed: set[int] = set()
    give_up = time.monotonic() + 5.0
    while time.monotonic() < give_up:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        pids = [p for p in _run_processes(proc.pid, marker) if p != proc.pid]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except (ProcessLookupError, PermissionError):
                pass
        if not pids:
            break
        time.sleep(0.01)
    proc.wait()
    return len(killed)


def _prepare_scratch(
    workdir: Path, submission: Path, public: list[Path], hidden: list[Path], solution: Path | None, module: str
) -> list[str]:
    cwd = workdir / LAYOUT.scratch_to_cwd
    cwd.mkdir()
    notes = copy_submission(submission, cwd)
    for files, where in ((public, LAYOUT.public), (hidden, LAYOUT.hidden)):
        (cwd / where).mkdir(parents=True, exist_ok=True)
        for f in files:
            shutil.copyfile(f, cwd / where / f.name)
    if solution is not None:
        (cwd / LAYOUT.solution).mkdir()
        shutil.copyfile(solution / f"{module}.py", cwd / LAYOUT.solution / f"{module}.py")
    (workdir / "home").mkdir()
    return notes


def _run_once(
    cmd: list[str],
    env: dict[str, str],
    channel: ParentChannel,
    deadline: Callable[[], float],
    on_event: Callable[[dict], None],
    prepare: Callable[[Path], list[str]],
    limits: Limits,
    gpu: bool,
    isolation: Isolation,
    view: tuple[list[Path], list[Path], list[Path]],
) -> tuple[int | None, str, bool, list[str]]:
    """One worker process: stream channel events to `on_event`; return (exit code, output tail, hit deadline, notes).

    The worker inherits only the channel's child ends; ``view`` is what it may read and what it
    must not see (see `Isolation.wrap`).
    ``deadline()`` is asked again after every event, so it can follow the test that is running.
    """
    read_fd, secret = channel.read_fd, channel.secret
    marker = secrets.token_hex(8)
    with tempfile.TemporaryDirectory(prefix="parlab-run-") as tmp, tempfile.TemporaryFile("w+b") as log:
        workdir = Path(tmp)
        notes = prepare(workdir)
        isolation.prepare(workdir)
        env = {**env, RUN_MARKER_ENV: marker, "HOME": str(workdir / "home")}
        if isolation.full:
            env["TMPDIR"] = "/tmp"  # the sandbox's private one
        cwd = workdir / LAYOUT.scratch_to_cwd
        readable, hide, writable = view
        proc = subprocess.Popen(
            isolation.wrap(cmd, workdir=workdir, cwd=cwd, readable=readable, gpu=gpu, hide=hide, writable=writable),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=channel.child_fds,
            start_new_session=True,
            preexec_fn=limits.preexec(gpu=gpu, uid=isolation.uid if isolation.full else None),
        )
        channel.close_child_ends()  # from now on, EOF means every process of the worker is done

        def too_many() -> bool:
            return len(_run_processes(proc.pid, marker)) > limits.max_processes

        try:
            hit_deadline, forked = _pump(read_fd, secret, deadline, on_event, too_many, lambda: proc.poll() is not None)
            if forked:
                notes.append(f"started more than {limits.max_processes} processes: all were killed")
            elif not hit_deadline:
                try:
                    proc.wait(timeout=max(1.0, deadline() - time.monotonic()))
                except subprocess.TimeoutExpired:
                    hit_deadline = True
        finally:
            os.close(read_fd)
            _kill_run(proc, marker)  # always: also reaps anything the tests left running
        code = isolation.exit_code(proc.returncode)
        reason = describe_death(code, limits)
        if reason and not hit_deadline and not forked:  # our own kill says nothing new
            notes.append(reason)
        log.seek(0, os.SEEK_END)
        size = log.tell()
        log.seek(max(0, size - OUTPUT_TAIL))
        tail = log.read().decode(errors="replace")
        return code, tail, hit_deadline, notes


def _pump(
    read_fd: int,
    secret: str,
    deadline: Callable[[], float],
    on_event: Callable[[dict], None],
    too_many: Callable[[], bool],
    worker_exited: Callable[[], bool],
) -> tuple[bool, bool]:
    """Read channel events until the worker is done. Returns (deadline came first, too many processes).

    Done means every writer closed the channel, or the worker process itself exited and nothing
    more arrived for a moment (a process it left behind may hold the channel open forever).
    The process count is checked before each batch of events and every idle second.
    """
    buffer = b""
    exited_at: float | None = None
    with selectors.DefaultSelector() as sel:
        sel.register(read_fd, selectors.EVENT_READ)
        while True:
            remaining = deadline() - time.monotonic()
            if remaining <= 0:
                return True, False
            if exited_at is None and worker_exited():
                exited_at = time.monotonic()
            if exited_at is not None and time.monotonic() - exited_at > 2.0:
                return False, False  # leftovers chattering on the channel are not waited for
            wait = min(remaining, 1.0 if exited_at is None else 0.2)
            if not sel.select(timeout=wait):
                if too_many():
                    return False, True
                if exited_at is not None:
                    return False, False
                continue
            chunk = os.read(read_fd, 65536)
            if not chunk:
                return False, False
            if too_many():
                return False, True
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                event = parse_line(raw.decode(errors="replace"), secret)
                if event is not None:
                    on_event(event)


@dataclass
class _Listener:
    """Turns channel events into records, following which test is running (the parent's deadlines follow it)."""

    run: WorkerRun
    running: str | None = None  # node id of the test running now
    since: float = 0.0
    restart: str | None = None  # the plugin asked for a fresh worker, and why
    collected: bool = False
    collection_errors: list[str] = field(default_factory=list)

    def __call__(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "collection_error" and not self.collected:
            self.collection_errors = [str(e)[:2000] for e in event.get("errors", [])][:10]
        elif kind == "collected":
            self.collected = True
            for test in event.get("tests", []):
                self.run.expected.setdefault(test["nodeid"], test)
        elif kind == "start":
            self.running, self.since = event.get("nodeid"), time.monotonic()
        elif kind == "restart":  # a test broke the process's GPU context
            self.restart = str(event.get("reason", ""))[:300]
        elif kind == "record":
            self._record(event)

    def _record(self, event: dict) -> None:
        try:
            record = TestRecord.from_dict(event["record"])
        except (KeyError, TypeError, ValueError):
            self.run.forged.add(str(self.running))  # only the plugin writes records, and never a malformed one
            return
        if record.nodeid not in self.run.expected:
            return
        if record.nodeid != self.running or record.nodeid in self.run.records:
            self.run.forged.add(record.nodeid)  # the plugin reports each test once, while it runs
        else:
            self.run.records[record.nodeid] = record
        self.running = None

    def deadline(self, run_deadline: float, test_timeout: float) -> float:
        """The whole run's deadline, or the running test's own limit plus a grace period if sooner."""
        if self.running is not None:
            return min(run_deadline, self.since + test_timeout + KILL_GRACE_S)
        return run_deadline

    def record_crash(self, code: int | None, hit_deadline: bool, notes: list[str], test_timeout: float) -> str | None:
        """The worker died during a test: record it as a timeout or an error. Returns its node id."""
        crashed = self.running
        if crashed is None or crashed in self.run.records:
            return None
        meta = self.run.expected[crashed]
        elapsed = time.monotonic() - self.since
        limit = float(meta.get("timeout") or test_timeout)  # a test may set itself a shorter limit
        if hit_deadline or elapsed >= limit * 0.98:  # measured here, never read from the worker's output
            status, message = Status.timeout, f"ran longer than the {limit:g} s limit for one test and was stopped"
        else:
            why = notes[-1] if notes else "a crash or an exit call in the code under test"
            status, message = Status.error, f"the test process died during this test (exit code {code}): {why}"
        self.run.records[crashed] = _synthetic(meta, status, message, elapsed)
        self.running = None
        return crashed


def run_worker(
    assignment: Path,
    submission: Path,
    public_tests: list[Path],
    hidden_tests: Sequence[Path] = (),
    *,
    module: str,
    env_extra: dict[str, str],
    select: list[str],
    test_timeout: float,
    solution: Path | None = None,
    limits: Limits | None = None,
    isolation: Isolation | None = None,
    hide: Sequence[Path] = (),
    writable: Sequence[Path] = (),
    readable: Sequence[Path] = (),
) -> WorkerRun:
    """Run the tests, restarting the worker past any test that kills it, until every test has a record.

    ``isolation`` (default: what this machine allows) confines each worker; ``hide`` are course
    folders it must never see (hidden tests, solutions); ``writable`` folders it may write to besides
    its scratch folder (`grader test`'s numba cache), ``readable`` folders it may read besides the
    course and Python's (grade-all's compiled course code)."""
    run = WorkerRun()
    limits = limits or Limits()
    isolation = isolation or detect()
    view = ([*python_paths(), Path(assignment), *readable], list(hide), list(writable))
    public_tests, hidden_tests = list(public_tests), list(hidden_tests)
    targets = [f"{LAYOUT.public}/{p.name}" for p in public_tests] + [f"{LAYOUT.hidden}/{p.name}" for p in hidden_tests]
    listener = _Listener(run)
    gpu = env_extra.get("PARLAB_GPU") == "cuda"

    def prepare(workdir: Path) -> list[str]:
        return _prepare_scratch(workdir, submission, public_tests, hidden_tests, solution, module)

    while run.restarts <= MAX_RESTARTS:
        channel = ParentChannel()
        env = _clean_env({**env_extra, **channel.env})
        run_deadline = time.monotonic() + DEADLINE_MARGIN_S + test_timeout * max(1, len(run.expected) or 50)
        cmd = _worker_command(assignment, submission, solution is not None, bool(hidden_tests), targets, select, test_timeout)
        code, tail, hit_deadline, notes = _run_once(
            cmd, env, channel, functools.partial(listener.deadline, run_deadline, test_timeout), listener, prepare, limits, gpu,
            isolation, view,
        )  # fmt: skip
        run.output_tail = tail
        run.notes += [n for n in notes if n not in run.notes]
        if listener.collection_errors:
            raise WorkerError("a test file could not be collected:\n" + "\n".join(listener.collection_errors))
        if not listener.collected:
            raise WorkerError(f"the tests could not be collected (worker exit code {code}):\n{tail.strip()}")
        crashed = listener.record_crash(code, hit_deadline, notes, test_timeout)
        remaining = [n for n in run.expected if n not in run.records]
        if not remaining:
            break
        if listener.restart:
            run.notes.append(f"{listener.restart}: the remaining tests ran in a fresh worker")
            listener.restart = None
        elif crashed is None:  # the worker ended without starting the rest: never count them as passed
            for nodeid in remaining:
                message = f"never reported a result (worker exit code {code})"
                run.records[nodeid] = _synthetic(run.expected[nodeid], Status.error, message, 0.0)
            break
        targets = [f"{LAYOUT.rootdir}/{nodeid}" for nodeid in remaining]
        run.restarts += 1
    _close_run(run)
    return run


def _close_run(run: WorkerRun) -> None:
    """Every expected test gets a record; a forged one voids its test."""
    for nodeid in run.expected:
        if nodeid not in run.records:
            run.records[nodeid] = _synthetic(run.expected[nodeid], Status.error, "too many worker restarts; not run", 0.0)
    for nodeid in sorted(run.forged & set(run.expected)):
        message = "a second or out-of-turn result was sent for this test: forged results void it"
        run.records[nodeid] = _synthetic(run.expected[nodeid], Status.error, message, run.records[nodeid].duration)
        run.notes.append(f"{nodeid}: {message}")


def _synthetic(meta: dict, status: Status, message: str, duration: float) -> TestRecord:
    """A record the parent writes for a test the worker could not report on."""
    return TestRecord(
        name=meta["name"],
        task=meta["task"],
        part=meta["part"],
        kind=meta["kind"],
        status=status,
        score=0.0,
        max_score=meta["points"],
        message=message,
        visibility=meta["visibility"],
        duration=round(duration, 3),
        nodeid=meta["nodeid"],
    )
