"""`grade-all` on a Dask cluster: the same phases, cache and resume rules, the gradings on other machines.

Dask distributed schedules; this module only says what each grading needs. Every worker runs one
Dask worker process per machine with one thread per core and declares the resource
``slot=SLOTS`` (and ``GPU=1`` on a machine with a GPU). A correctness grading asks for one slot, so
a machine runs as many at once as it has threads; a timing grading asks for all `SLOTS`, so it
runs alone on its machine (Dask counts resources per worker process, and a task holding every
slot leaves none for anything else). A grading of GPU lines also asks for ``GPU=1`` and runs with
the worker's GPU (`cuda`, chosen there); without a GPU worker in the cluster those lines are graded as on one
machine (simulator for correctness, pending for speed).

The task (`grade_task`) gets the submission's module folder as bytes (workers need not share a
file system), grades it with the worker's own course checkout ($PARLAB_COURSE or its working
folder), and returns the report; the machine holding the class folder writes every cache file and
result, atomically, as without a cluster. A worker whose checkout grades with another test-suite
version than the TA's refuses the task (`SuiteMismatch`), and grade-all stops with its message.
A worker that dies mid-task loses nothing: Dask runs the task again on another worker. A
student's code that kills its sandbox is a result of that grading (an error), not a dead worker.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import tomllib

from ..core.course import Assignment, Course, find_course_root
from ..core.results import GradeReport
from .collect import BatchError

SLOTS = 1000  # every worker's `slot` resource: a correctness grading takes 1, a timing grading all of them
GPU = "GPU"
MAX_UPLOAD = 32 * 2**20  # bytes of a submission's module folder sent to a worker
CONFIG_SECTION = "cluster"


class ClusterError(BatchError):
    """The cluster cannot be reached or configured, or a worker grades with another course version."""


class SuiteMismatch(ClusterError):
    """Raised on a worker whose course checkout is not the version the TA grades with."""


def module_files(folder: Path) -> dict[str, bytes]:
    """The files of a submission's module folder (not its subfolders), as a worker rebuilds it."""
    files, total = {}, 0
    for path in sorted(Path(folder).iterdir()):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            total += len(data)
            if total > MAX_UPLOAD:
                raise ClusterError(f"{folder}: more than {MAX_UPLOAD // 2**20} MiB of files to send to a worker")
            files[path.name] = data
    return files


def grade_task(assignment_id: str, suite: str, files: dict[str, bytes], select: list[str], gpu: str | None, phase: str) -> dict:
    """Runs on a Dask worker: grade the rebuilt module folder with this machine's course checkout.

    Returns the report (as a dict) and when and where it ran (``interval``), which the tests use
    to show that no correctness grading overlapped a timing grading on one machine."""
    from .grade_all import suite_version  # the worker's own checkout decides its version

    started = time.time()
    a = Course(find_course_root()).resolve(assignment_id)
    mine = suite_version(a)
    if mine != suite:
        raise SuiteMismatch(
            f"worker {socket.gethostname()} grades {assignment_id} with test-suite version {mine}, the TA's is {suite}: "
            f"update the course checkout at {a.course_root} on that machine (same commit as the TA's), then rerun"
        )
    from ..run.grade import grade_submission

    with tempfile.TemporaryDirectory(prefix="parlab-cluster-") as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        report = grade_submission(a, Path(tmp), hidden=True, gpu=gpu, select=select)
    try:
        from distributed import get_worker

        where = get_worker().address
    except (ImportError, ValueError):
        where = f"{socket.gethostname()}:{os.getpid()}"
    interval = {"worker": where, "phase": phase, "lines": select, "start": started, "end": time.time()}
    return {"report": report.to_dict(), "interval": interval}


@dataclass
class ClusterGrading:
    """A Dask client and what grade-all asks of it (see the module docstring)."""

    client: Any
    owned: list[Any] = field(default_factory=list)  # clusters this object started (closed with it)
    intervals: list[dict] = field(default_factory=list)

    def workers(self) -> dict[str, dict]:
        return self.client.scheduler_info(n_workers=-1)["workers"]

    @property
    def has_gpu(self) -> bool:
        return any(w.get("resources", {}).get(GPU, 0) >= 1 for w in self.workers().values())

    def concurrency(self, phase: str) -> int:
        """Gradings worth having in flight: every thread for correctness, one per machine for timing."""
        workers = self.workers().values()
        if phase == "correctness":
            return max(1, sum(w.get("nthreads", 1) for w in workers))
        return max(1, len(workers))

    def check_workers(self) -> None:
        workers = self.workers()
        if not workers:
            raise ClusterError("the cluster has no workers yet: start them (see the README), then rerun")
        missing = [a for a, w in workers.items() if w.get("resources", {}).get("slot", 0) < SLOTS]
        if missing:
            raise ClusterError(
                f"worker(s) {', '.join(sorted(missing))} do not declare the resource slot={SLOTS}: start each with "
                f'`dask worker SCHEDULER --nthreads CORES --resources "slot={SLOTS}"` (add ",GPU=1" on a GPU machine)'
            )

    def grade(
        self, assignment: Assignment, suite: str, folder: Path, select: list[str], gpu: str | None, phase: str
    ) -> GradeReport:
        """Grade one phase (its ``select``-ed lines) of the module in ``folder`` on the cluster: GPU lines on
        a GPU worker with the real GPU when there is one, the rest anywhere."""
        files = module_files(folder)
        slot = 1 if phase == "correctness" else SLOTS
        parts: list[tuple[list[str], str | None, dict[str, float]]] = []
        gpu_lines, other = split_gpu_lines(assignment, select)
        if self.has_gpu and gpu_lines:
            parts.append((gpu_lines, gpu, {"slot": slot, GPU: 1}))  # the worker picks its GPU (cuda) unless told
            if other:
                parts.append((other, gpu, {"slot": slot}))
        else:
            parts.append((gpu_lines + other, gpu, {"slot": slot}))
        futures = [
            self.client.submit(grade_task, assignment.id, suite, files, lines, backend, phase, resources=res, pure=False)
            for lines, backend, res in parts
        ]
        reports = []
        for future in futures:
            done = future.result()
            self.intervals.append(done["interval"])
            reports.append(GradeReport.from_dict(done["report"]))
        from .grade_all import combine_phases

        report = combine_phases(reports) if len(reports) > 1 else reports[0]
        return replace(report, submission=str(folder))

    def close(self) -> None:
        jobs = [o for o in self.owned if not hasattr(o, "scheduler_address")]  # Slurm jobs started by hand
        for job in jobs:
            self.client.sync(job.close)
        self.client.close()
        for cluster in self.owned:
            if cluster not in jobs:
                cluster.close()


def split_gpu_lines(assignment: Assignment, select: list[str]) -> tuple[list[str], list[str]]:
    """The selected rubric lines of GPU parts, and the others, as exact selectors."""
    from fnmatch import fnmatchcase

    chosen = [str(line) for line in assignment.spec.lines() if any(fnmatchcase(str(line), s) for s in select)]
    gpu = [line for line in chosen if line.split(".")[1] == "gpu"]
    return gpu, [line for line in chosen if line not in gpu]


def connect(target: str, course_root: Path) -> ClusterGrading:
    """``target``: a scheduler address (tcp://host:8786), ``local`` (a LocalCluster on this machine), or
    ``config`` (the [cluster] section of course.toml: local, an address, or Slurm)."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("grading on a cluster needs Dask: pip install -e '.[cluster]'") from None
    if target == "config":
        return from_config(course_root)
    if target == "local":
        grading = _local(course_root, workers=1, threads=os.cpu_count() or 1)
    else:
        try:
            grading = ClusterGrading(Client(target, timeout="10s"))
        except OSError as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {target}: {exc}") from None
    grading.check_workers()
    return grading


def _local(course_root: Path, workers: int, threads: int) -> ClusterGrading:
    """Worker processes on this machine, each declaring the slot resource, grading with this checkout."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=threads, processes=True, resources={"slot": SLOTS},
        env={"PARLAB_COURSE": str(course_root)}, dashboard_address=None,
    )  # fmt: skip
    return ClusterGrading(Client(cluster), owned=[cluster])


def _jobqueue():
    """dask-jobqueue's Slurm cluster and job classes."""
    try:
        from dask_jobqueue import SLURMCluster
        from dask_jobqueue.slurm import SLURMJob
    except ImportError:
        raise ClusterError("Slurm needs dask-jobqueue: pip install -e '.[cluster]'") from None
    return SLURMCluster, SLURMJob


def read_config(course_root: Path) -> dict:
    path = Path(course_root) / "course.toml"
    try:
        data = tomllib.loads(path.read_text()) if path.is_file() else {}
    except tomllib.TOMLDecodeError as exc:
        raise ClusterError(f"{path}: not valid TOML: {exc}") from None
    section = data.get(CONFIG_SECTION)
    if not isinstance(section, dict):
        raise ClusterError(f"{path} has no [{CONFIG_SECTION}] section (see the README, 'A class bigger than one machine')")
    return section


def slurm_options(section: dict) -> dict[str, dict]:
    """dask-jobqueue Slurm job options for the [cluster] section (kind = "slurm"): ``cpu``, and ``gpu``
    when [cluster.gpu] is there (its keys override the CPU ones). Each job is one whole machine
    (--exclusive) running one worker with a thread per core and the slot (and GPU) resources."""

    def options(raw: dict, gpu: bool) -> dict:
        raw = dict(raw)
        if "cores" not in raw:
            raise ClusterError(f"course.toml [cluster{'.gpu' if gpu else ''}] needs cores = N (cores of one machine)")
        cores = int(raw.pop("cores"))
        resources = f"slot={SLOTS}" + (f",{GPU}=1" if gpu else "")
        extra = ["--exclusive"] + (["--gres=gpu:1"] if gpu else []) + list(raw.pop("job_extra_directives", []))
        return {
            "cores": cores,
            "processes": 1,
            "memory": raw.pop("memory", "8GB"),
            "job_extra_directives": extra,
            "worker_extra_args": ["--resources", resources],
            **raw,
        }

    base = {k: v for k, v in section.items() if k not in ("kind", "gpu", "jobs", "start_timeout_s")}
    out = {"cpu": options(base, gpu=False)}
    if isinstance(section.get("gpu"), dict):
        out["gpu"] = options({**base, **{k: v for k, v in section["gpu"].items() if k != "jobs"}}, gpu=True)
    return out


def slurm_job_scripts(section: dict, scheduler: str = "tcp://scheduler:8786") -> dict[str, str]:
    """The sbatch scripts the [cluster] section makes, by kind of machine (what a TA can read first)."""
    _, SLURMJob = _jobqueue()
    return {
        kind: SLURMJob(scheduler=scheduler, name=f"parlab-{kind}", **opts).job_script()
        for kind, opts in slurm_options(section).items()
    }


def from_config(course_root: Path) -> ClusterGrading:
    from distributed import Client

    section = read_config(course_root)
    kind = section.get("kind", "local")
    if kind == "address":
        if "address" not in section:
            raise ClusterError('course.toml [cluster] kind = "address" needs address = "tcp://host:8786"')
        return connect(str(section["address"]), course_root)
    if kind == "local":
        grading = _local(course_root, int(section.get("workers", 1)), int(section.get("threads", os.cpu_count() or 1)))
    elif kind == "slurm":
        SLURMCluster, SLURMJob = _jobqueue()
        options = slurm_options(section)
        cpu = SLURMCluster(**options["cpu"])
        cpu.scale(jobs=int(section.get("jobs", 1)))
        client = Client(cpu)
        owned: list[Any] = [cpu]
        if "gpu" in options:  # GPU machines: jobs of their own template whose workers join the same scheduler
            for n in range(int(section["gpu"].get("jobs", 1))):
                job = SLURMJob(scheduler=cpu.scheduler_address, name=f"parlab-gpu-{n}", **options["gpu"])
                client.sync(job.start)
                owned.append(job)
        grading = ClusterGrading(client, owned=owned)
        client.wait_for_workers(1, timeout=int(section.get("start_timeout_s", 600)))
    else:
        raise ClusterError(f"course.toml [cluster] kind must be local, address or slurm, got {kind!r}")
    grading.check_workers()
    return grading
