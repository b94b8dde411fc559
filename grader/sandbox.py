"""Run graded tests in a child process and believe only what arrives on the result channel.

The worker is `python -m pytest -p grader.plugin` in its own process group, started in an empty
temporary directory with a scrubbed environment, `--noconftest` and no ini file, so nothing in the
submission can hook into pytest. Each test is limited twice: by pytest-timeout inside the worker,
and by the parent, which follows the running test over the channel and kills the worker's process
group a few seconds after the limit (compiled code holding the GIL cannot be stopped from inside).
The whole run also has a wall-clock deadline. When the worker
dies mid-test (timeout, crash, `os._exit`), that test is recorded as `timeout` or `error` and a
fresh worker runs the tests that remain. Tests that were expected but never reported are errors:
silence never earns points.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .channel import channel_env, new_secret, parse_line
from .results import Status, TestRecord

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
    "LD_LIBRARY_PATH",
)
OUTPUT_TAIL = 4000  # characters of worker output kept for diagnostics
DEADLINE_MARGIN_S = 60.0  # start-up and collection allowance on top of the tests' own timeouts
KILL_GRACE_S = 5.0  # pytest-timeout stops Python code at the limit; the parent kills the worker this much later
# (compiled code that holds the GIL cannot be interrupted from inside the worker at all)
MAX_RESTARTS = 50


class WorkerError(Exception):
    """The tests could not even be collected (a broken test file or spec): a grader problem, not a grade."""


@dataclass
class WorkerRun:
    """What the worker(s) reported: records per node id, in the order tests finished."""

    records: dict[str, TestRecord] = field(default_factory=dict)
    expected: dict[str, dict] = field(default_factory=dict)
    output_tail: str = ""
    restarts: int = 0


def _worker_command(
    assignment: Path,
    submission: Path,
    solution: Path | None,
    rootdir: Path,
    targets: list[str],
    select: list[str],
    timeout: float,
) -> list[str]:
    cmd = [
        sys.executable, "-m", "pytest",
        "-p", "grader.plugin",
        "-p", "no:cacheprovider",
        "-p", "no:randomly",
        "--noconftest",
        "-c", os.devnull,
        "--rootdir", str(rootdir),
        "-q", "--no-header", "-rN",
        f"--timeout={timeout:g}", "--timeout-method=thread",
        "--parlab-assignment", str(assignment),
        "--parlab-submission", str(submission),
    ]  # fmt: skip
    if solution is not None:
        cmd += ["--parlab-solution", str(solution)]
    for pattern in select:
        cmd += ["--parlab-select", pattern]
    return cmd + targets


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
    env.update({"PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"})
    env.update(extra)
    return env


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _run_once(
    cmd: list[str],
    env: dict[str, str],
    channel: tuple[int, int, str],
    deadline: Callable[[], float],
    on_event: Callable[[dict], None],
) -> tuple[int | None, str, bool]:
    """One worker process: stream channel events to `on_event`; return (exit code, output tail, hit deadline).

    ``channel`` is (read end, write end, secret); the worker inherits only the write end.
    ``deadline()`` is asked again after every event, so it can follow the test that is running.
    """
    read_fd, write_fd, secret = channel
    with tempfile.TemporaryDirectory(prefix="parlab-run-") as workdir, tempfile.TemporaryFile("w+b") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            start_new_session=True,
        )
        os.close(write_fd)  # from now on, EOF means every process of the worker is done
        try:
            hit_deadline = _pump(read_fd, secret, deadline, on_event)
            if not hit_deadline:
                try:
                    proc.wait(timeout=max(1.0, deadline() - time.monotonic()))
                except subprocess.TimeoutExpired:
                    hit_deadline = True
        finally:
            os.close(read_fd)
            _kill_group(proc)  # always: also reaps anything the tests left running in the group
        log.seek(0, os.SEEK_END)
        size = log.tell()
        log.seek(max(0, size - OUTPUT_TAIL))
        tail = log.read().decode(errors="replace")
        return proc.returncode, tail, hit_deadline


def _pump(read_fd: int, secret: str, deadline: Callable[[], float], on_event: Callable[[dict], None]) -> bool:
    """Read channel events until every writer has closed it (True if the deadline came first)."""
    buffer = b""
    with selectors.DefaultSelector() as sel:
        sel.register(read_fd, selectors.EVENT_READ)
        while True:
            remaining = deadline() - time.monotonic()
            if remaining <= 0:
                return True
            if not sel.select(timeout=min(remaining, 1.0)):
                continue
            chunk = os.read(read_fd, 65536)
            if not chunk:
                return False
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                event = parse_line(raw.decode(errors="replace"), secret)
                if event is not None:
                    on_event(event)


def run_worker(
    assignment: Path,
    submission: Path,
    test_files: list[Path],
    *,
    env_extra: dict[str, str],
    select: list[str],
    test_timeout: float,
    solution: Path | None = None,
) -> WorkerRun:
    """Run the tests, restarting the worker past any test that kills it, until every test has a record."""
    run = WorkerRun()
    targets = [str(p) for p in test_files]
    # Node ids are relative to the rootdir; the worker's cwd is a scratch folder, so a restart
    # names the remaining tests by absolute path.
    rootdir = Path(os.path.commonpath([p.resolve().parent for p in test_files]))
    current: dict[str, str | float | None] = {"nodeid": None, "since": 0.0}
    collected_once = False

    def on_event(event: dict) -> None:
        nonlocal collected_once
        kind = event.get("event")
        if kind == "collected":
            collected_once = True
            for test in event.get("tests", []):
                run.expected.setdefault(test["nodeid"], test)
        elif kind == "start":
            current["nodeid"], current["since"] = event.get("nodeid"), time.monotonic()
        elif kind == "record":
            record = TestRecord.from_dict(event["record"])
            if record.nodeid in run.expected and record.nodeid not in run.records:
                run.records[record.nodeid] = record
            current["nodeid"] = None

    while run.restarts <= MAX_RESTARTS:
        secret = new_secret()
        read_fd, write_fd = os.pipe()
        os.set_inheritable(write_fd, True)
        env = _clean_env({**env_extra, **channel_env(write_fd, secret)})
        run_deadline = time.monotonic() + DEADLINE_MARGIN_S + test_timeout * max(1, len(run.expected) or 50)

        def deadline(run_deadline: float = run_deadline) -> float:
            if current["nodeid"] is not None:
                return min(run_deadline, float(current["since"] or 0.0) + test_timeout + KILL_GRACE_S)
            return run_deadline

        cmd = _worker_command(assignment, submission, solution, rootdir, targets, select, test_timeout)
        code, tail, hit_deadline = _run_once(cmd, env, (read_fd, write_fd, secret), deadline, on_event)
        run.output_tail = tail
        if not collected_once:
            raise WorkerError(f"the tests could not be collected (worker exit code {code}):\n{tail.strip()}")
        crashed = current["nodeid"]
        if crashed is not None and crashed not in run.records:
            meta = run.expected[crashed]
            elapsed = time.monotonic() - float(current["since"] or 0.0)
            timed_out = hit_deadline or elapsed >= test_timeout * 0.98 or "Timeout" in tail[-OUTPUT_TAIL:]
            run.records[crashed] = _synthetic(
                meta,
                Status.timeout if timed_out else Status.error,
                f"ran longer than the {test_timeout:g} s limit for one test and was stopped"
                if timed_out
                else f"the test process died during this test (exit code {code}); a crash or an exit call in the code under test",
                elapsed,
            )
            current["nodeid"] = None
        remaining = [n for n in run.expected if n not in run.records]
        if not remaining:
            break
        if crashed is None:
            # The worker ended without starting the rest: never count them as passed.
            for nodeid in remaining:
                run.records[nodeid] = _synthetic(
                    run.expected[nodeid], Status.error, f"never reported a result (worker exit code {code})", 0.0
                )
            break
        targets = [str(rootdir / nodeid) for nodeid in remaining]
        run.restarts += 1
    for nodeid in run.expected:
        if nodeid not in run.records:
            run.records[nodeid] = _synthetic(run.expected[nodeid], Status.error, "too many worker restarts; not run", 0.0)
    return run


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
