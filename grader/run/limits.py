"""Resource limits for the grading worker, and what a worker's death by a limit means.

Set with `setrlimit` in the worker just before it executes, so they hold for the student's code and
everything it starts:

- address space (memory): a memory bomb gets `MemoryError` (or dies) instead of taking the machine
  down. On a real GPU the CUDA driver reserves huge virtual ranges, so there the data segment is
  limited instead;
- file size: one runaway file cannot fill the disk;
- CPU seconds: a backstop behind the wall-clock timeouts the parent enforces;
- processes: caps a fork bomb for unprivileged users (the kernel ignores it for root, so the parent
  also counts the worker's processes and kills them all past `max_processes`: `sandbox.py`);
- no core dumps.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from dataclasses import dataclass
from typing import Callable

MIB = 1024 * 1024
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 6144  # numba + LLVM + NumPy need ~1.5 GiB of address space before any test
    file_mb: int = 512
    cpu_s: int = 3600
    max_processes: int = 64  # counted by the parent, which kills the run past it
    # The kernel's limit counts threads too, and numba's CUDA simulator runs one thread per GPU
    # thread of a block (up to 1024) beside numba's and pytest's own: a backstop for fork bombs.
    max_tasks: int = 4096

    def preexec(self, *, gpu: bool, uid: int | None = None) -> Callable[[], None]:
        """The function to run in the child between fork and exec: system calls only.

        ``uid``: the user the worker will run as (isolation drops root to an unprivileged one)."""
        memory = self.memory_mb * MIB
        memory_kind = resource.RLIMIT_DATA if gpu else resource.RLIMIT_AS
        files = self.file_mb * MIB
        # The kernel counts every process and thread of the user, not of this worker: leave room
        # for what the user already runs.
        nproc = _user_tasks(os.getuid() if uid is None else uid) + self.max_tasks

        def apply() -> None:
            _die_with_parent()
            resource.setrlimit(memory_kind, (memory, memory))
            resource.setrlimit(resource.RLIMIT_FSIZE, (files, files))
            resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_s, self.cpu_s + 5))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            _, hard = resource.getrlimit(resource.RLIMIT_NPROC)
            if hard == resource.RLIM_INFINITY or nproc < hard:
                resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))

        return apply


def _die_with_parent() -> None:
    """Linux: the worker gets SIGKILL when the grader dies (even by kill -9), instead of running on as an orphan."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the parent's own kill paths still apply


def _user_tasks(uid: int) -> int:
    """Threads of all processes of this user right now (what RLIMIT_NPROC counts)."""
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                continue
    return count


def describe_death(returncode: int | None, limits: Limits) -> str | None:
    """A student-readable reason when the worker was ended by a signal a limit sends."""
    if returncode is None or returncode >= 0:
        return None
    sig = -returncode
    if sig == signal.SIGXCPU:
        return f"the CPU time limit ({limits.cpu_s} s) was exceeded"
    if sig == signal.SIGXFSZ:
        return f"a file grew past the {limits.file_mb} MiB limit"
    if sig == signal.SIGSEGV:
        return "the process crashed (segmentation fault): out-of-bounds access in compiled code, or out of memory"
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    return f"the process was ended by {name}"
