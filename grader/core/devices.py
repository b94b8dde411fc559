"""Machine facts the grade depends on: usable CPU cores and the GPU backend.

The backend is decided once, in the parent, and handed to the worker through its environment:
- ``cuda``: a real NVIDIA GPU (numba.cuda kernels on CuPy arrays);
- ``cudasim``: numba's CUDA simulator (kernels run as Python threads on NumPy arrays), which checks
  correctness anywhere but says nothing about speed;
- ``none``: no way to run kernels; GPU tests are deferred.
"""

from __future__ import annotations

import functools
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Literal

from .results import Machine

Backend = Literal["cuda", "cudasim", "none"]
BACKENDS: tuple[str, ...] = ("cuda", "cudasim", "none")
BACKEND_ENV = "PARLAB_GPU"  # force a backend: cuda | cudasim | none
CORES_ENV = "PARLAB_CORES"  # cap the cores the grader uses (e.g. to grade as a 2-core runner would)
# numba threads the worker may start (NUMBA_NUM_THREADS, fixed when numba is imported). The worker
# runs with one thread per usable core (`grader.worker.plugin` sets it before any student code); only race
# tests raise it to this, so that racing threads overlap even when other jobs keep a core busy.
RACE_THREADS = 8


def usable_cores() -> int:
    """Cores this process may run on (affinity and cgroup cpusets respected), capped by PARLAB_CORES."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    cap = os.environ.get(CORES_ENV)
    if cap and cap.isdigit() and int(cap) > 0:
        cores = min(cores, int(cap))
    return max(cores, 1)


# Run the way the worker will use the GPU: numba.cuda on the real driver, and CuPy for arrays.
_CUDA_PROBE = """
import json, os
os.environ["NUMBA_ENABLE_CUDASIM"] = "0"
try:
    from numba import cuda
    if not cuda.is_available():
        raise RuntimeError("numba.cuda sees no usable GPU (driver missing, or no device visible)")
    name = cuda.get_current_device().name
    name = name.decode() if isinstance(name, bytes) else str(name)
    try:
        import cupy
    except ImportError:
        raise RuntimeError("CuPy is not installed: pip install -e '.[gpu]'") from None
    cupy.asarray([1.0]).sum().get()
    print(json.dumps({"name": name}))
except Exception as exc:
    print(json.dumps({"why": f"{type(exc).__name__}: {exc}"[:300]}))
"""


@functools.cache
def cuda_probe() -> tuple[str | None, str]:
    """(name of the GPU the worker would use, or None; why not). Once per process, in a child process
    (importing numba here would pin the simulator choice). Skipped where no NVIDIA device exists."""
    if not glob.glob("/dev/nvidia[0-9]*") and shutil.which("nvidia-smi") is None:
        return None, "no NVIDIA GPU on this machine"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    try:
        done = subprocess.run([sys.executable, "-I", "-c", _CUDA_PROBE], capture_output=True, text=True, timeout=120, env=env)
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None, "the GPU probe did not finish"
    return result.get("name"), result.get("why", "")


def gpu_exclusive() -> bool:
    """Is the GPU in EXCLUSIVE_PROCESS compute mode (one process may use it at a time)?"""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        out = subprocess.run(
            [smi, "--query-gpu=compute_mode", "--format=csv,noheader"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return "exclusive" in out.stdout.lower()


def _simulator_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("numba_cuda") is not None or importlib.util.find_spec("numba.cuda") is not None


def choose_backend(requested: str | None = None) -> tuple[Backend, str]:
    """Pick the GPU backend: the request (flag or PARLAB_GPU) if given, else cuda > cudasim > none."""
    requested = (requested or os.environ.get(BACKEND_ENV) or "auto").lower()
    if requested not in (*BACKENDS, "auto"):
        raise ValueError(f"unknown GPU backend {requested!r}: choose auto, cuda, cudasim or none")
    name = cuda_probe()[0] if requested in ("auto", "cuda") else None
    if requested == "cuda":
        if name is None:
            raise ValueError(f"GPU backend 'cuda' requested but the GPU cannot be used here: {cuda_probe()[1]}")
        return "cuda", name
    if requested == "auto" and name is not None:
        return "cuda", name
    if requested in ("auto", "cudasim") and _simulator_available():
        return "cudasim", ""
    if requested == "cudasim":
        raise ValueError("GPU backend 'cudasim' requested but numba-cuda is not installed")
    return "none", ""


def describe_machine(backend: Backend, gpu_name: str = "") -> Machine:
    return Machine(cores=usable_cores(), gpu=backend, hostname=socket.gethostname(), gpu_name=gpu_name)


NUMBA_CACHE_ENV = "PARLAB_NUMBA_CACHE"  # `grader test`'s numba cache folder ("off": none); see worker/numba_cache.py
NUMBA_CACHE_LOCATOR = "grader.worker.numba_cache.ContentLocator"
NUMBA_CACHE_COURSE_ENV = "PARLAB_NUMBA_CACHE_COURSE"  # the cache holds course code alone (grade-all): "fill" it, or "read" it
STUDENT_NUMBA_CACHE_ENV = "PARLAB_STUDENT_NUMBA_CACHE"  # one submission's own compiled code, across its phases (grade-all)
TIMING_ENV = "PARLAB_TIMING"  # for the grader's own tests and benchmarks: "quick", "off" or "minimum"


def timing_mode() -> str:
    """How speed lines are timed: "" (the grader's own rounds: every grade), "quick", "off" or "minimum".

    "quick": a few rounds, enough for a test about a decision (a serial submission loses its points,
    a parallel one keeps them). "off": not timed at all, every speed line pending, for tests about
    bookkeeping (batch phases, caches, overrides) that run next to other work, where a timing would
    only burn both cores to end up pending. Reports name either mode: neither is ever a grade.
    "minimum": no line stops before the minimum rounds (the rule before the early stop, for
    benchmarks/early_stop.py to time against; a grade as sound as the default's, only slower)."""
    mode = os.environ.get(TIMING_ENV, "").strip().lower()
    return mode if mode in ("quick", "off", "minimum") else ""


def quick_timing() -> bool:
    return timing_mode() == "quick"


def timing_off() -> bool:
    return timing_mode() == "off"


def worker_environment(
    backend: Backend,
    cores: int,
    numba_cache: Path | None = None,
    course: Literal["fill", "read"] | None = None,
    student_cache: Path | None = None,
) -> dict[str, str]:
    """Environment variables that make the worker see exactly this machine (and the folders of numba's
    cache: `grader test`'s, or, with ``course``, grade-all's compiled course code; ``student_cache``,
    the submission's own compiled code)."""
    env = {
        BACKEND_ENV: backend,
        CORES_ENV: str(cores),
        "NUMBA_NUM_THREADS": str(max(cores, RACE_THREADS)),
        # OpenMP worker threads otherwise spin after each parallel region, slowing the serial
        # baseline timed next (measured: benchmarks/README.md, "Constants").
        "GOMP_SPINCOUNT": "10000",
    }
    if timing_mode():
        env[TIMING_ENV] = timing_mode()
    if numba_cache is not None:
        env[NUMBA_CACHE_ENV] = str(numba_cache)
        env["NUMBA_CACHE_LOCATOR_CLASSES"] = NUMBA_CACHE_LOCATOR
        if course is not None:
            env[NUMBA_CACHE_COURSE_ENV] = course
    if student_cache is not None:
        env[STUDENT_NUMBA_CACHE_ENV] = str(student_cache)
        env["NUMBA_CACHE_LOCATOR_CLASSES"] = NUMBA_CACHE_LOCATOR
    if backend == "cudasim":
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    else:
        env["NUMBA_ENABLE_CUDASIM"] = "0"
    return env
