"""grade-all on a Dask cluster (LocalCluster worker processes): the same results as the local pool,
no correctness grading beside a timing grading on one worker, GPU lines only on a GPU worker, a
worker killed mid-run losing nothing, a worker with another course version refused, and the Slurm
job scripts the documented course.toml section produces."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.classroom.collect import collect, read_roster
from grader.classroom.grade_all import grade_all
from grader.classroom.policies import LatePolicy
from grader.classroom.records import load_results
from grader.core.devices import BACKEND_ENV, TIMING_ENV

from .test_batch import synthetic_class

distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed: pip install -e '.[cluster]'")
from grader.classroom.cluster import GPU, SLOTS, ClusterError, ClusterGrading, SuiteMismatch, slurm_job_scripts  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
KINDS = ("reference", "stub", "wrong")


@pytest.fixture(scope="module", autouse=True)
def speed_lines_not_timed():
    """Bookkeeping, not timing: speed lines stay pending (`PARLAB_TIMING=off`), in the workers too."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(TIMING_ENV, "off")
        mp.setenv("PARLAB_COURSE", str(ROOT))
        yield


@pytest.fixture(scope="module")
def a_class(a1, tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster-class")
    roster, deadline, kinds = synthetic_class.make_class(a1, root / "class", 3, kinds=KINDS)
    subs = root / "subs"
    collect(a1, read_roster(roster), deadline, subs, LatePolicy(), roster=roster)
    local = root / "local"
    shutil.copytree(subs, local)
    grade_all(a1, local)  # the local pool, for comparison
    return subs, kinds, _points(local)


def _points(folder: Path) -> dict[str, tuple]:
    out = {}
    for r in load_results(folder):
        out[r.submission.student_id] = tuple(sorted((str(t.line), t.status.value, t.score) for t in r.report.tests))
    return out


def _cluster(n_workers: int = 1, gpu_worker: bool = False):
    env = {TIMING_ENV: "off", "PARLAB_COURSE": str(ROOT)}
    cluster = distributed.LocalCluster(
        n_workers=n_workers, threads_per_worker=2, processes=True, resources={"slot": SLOTS}, env=env, dashboard_address=None
    )
    client = distributed.Client(cluster)
    extra = None
    if gpu_worker:  # a worker that declares a GPU, started as the README says; the simulator stands in for the GPU
        extra = subprocess.Popen(
            [str(BIN / "dask"), "worker", cluster.scheduler_address, "--nthreads", "2", "--resources", f"slot={SLOTS},{GPU}=1",
             "--no-dashboard"],
            env={**os.environ, **env, BACKEND_ENV: "cudasim"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client.wait_for_workers(n_workers + 1, timeout=60)
    return ClusterGrading(client, owned=[cluster]), extra


def _copy(subs: Path, to: Path) -> Path:
    shutil.copytree(subs, to)
    return to


def test_a_class_graded_on_the_cluster_gets_the_local_pools_results(a1, a_class, tmp_path):
    subs, kinds, local = a_class
    grading, _ = _cluster(n_workers=2)
    try:
        folder = _copy(subs, tmp_path / "subs")
        stats = grade_all(a1, folder, cluster=grading)
        assert stats.graded == {"correctness": 3, "performance": 3} and not stats.failures
        assert _points(folder) == local
        # Resources keep a timing grading alone on its worker: no correctness grading overlaps one there.
        timing = [i for i in grading.intervals if i["phase"] == "performance"]
        other = [i for i in grading.intervals if i["phase"] == "correctness"]
        assert timing and other
        for t in timing:
            for o in other:
                if o["worker"] == t["worker"]:
                    assert o["end"] <= t["start"] or t["end"] <= o["start"], (o, t)
        again = grade_all(a1, folder, cluster=grading)  # a rerun takes everything from the cache
        assert again.cached["correctness"] == 3 and again.graded["correctness"] == 0
    finally:
        grading.close()


def test_gpu_lines_go_only_to_the_worker_that_declares_a_gpu(a1, a_class, tmp_path):
    subs, kinds, _ = a_class
    grading, gpu_worker = _cluster(n_workers=1, gpu_worker=True)
    try:
        assert grading.has_gpu
        folder = _copy(subs, tmp_path / "subs")
        grade_all(a1, folder, cluster=grading)
        gpu_address = next(a for a, w in grading.workers().items() if w["resources"].get(GPU))
        for it in grading.intervals:
            on_gpu = it["worker"] == gpu_address
            assert on_gpu == all(".gpu." in line for line in it["lines"]), it
        assert any(it["worker"] == gpu_address for it in grading.intervals)
        by_kind = {kinds[r.submission.student_id]: r for r in load_results(folder)}
        gpu_correct = [t for t in by_kind["reference"].report.tests if t.part == "gpu" and t.kind == "correctness"]
        assert gpu_correct and all(t.score == t.max_score for t in gpu_correct)
    finally:
        grading.close()
        gpu_worker.terminate()
        gpu_worker.wait(timeout=30)


def test_a_worker_killed_mid_run_loses_nothing(a1, a_class, tmp_path):
    subs, kinds, local = a_class
    grading, _ = _cluster(n_workers=2)
    try:
        folder = _copy(subs, tmp_path / "subs")
        done: dict = {}
        runner = threading.Thread(target=lambda: done.setdefault("stats", grade_all(a1, folder, cluster=grading)))
        runner.start()
        killed = None
        deadline = time.monotonic() + 120
        while killed is None and time.monotonic() < deadline:
            busy = [w for w, tasks in grading.client.processing().items() if tasks]
            if busy:
                killed = busy[0]
                try:  # the worker process dies mid-grading (its reply never comes)
                    grading.client.run(os._exit, 1, workers=[killed])
                except (OSError, distributed.comm.core.CommClosedError):
                    pass
            time.sleep(0.05)
        runner.join(timeout=600)
        assert killed is not None and "stats" in done
        assert not done["stats"].failures
        assert _points(folder) == local
    finally:
        grading.close()


def test_a_worker_with_another_course_version_is_refused(a1, a_class, tmp_path):
    subs, *_ = a_class
    grading, _ = _cluster(n_workers=1)
    try:
        folder = _copy(subs, tmp_path / "subs")
        from grader.classroom import grade_all as grade_all_module

        real = grade_all_module.suite_version
        with pytest.MonkeyPatch.context() as mp:  # the TA's checkout differs from the workers'
            mp.setattr(grade_all_module, "suite_version", lambda a: "0" * 16 if a is a1 else real(a))
            with pytest.raises(SuiteMismatch, match="test-suite version"):
                grade_all(a1, folder, cluster=grading)
        assert issubclass(SuiteMismatch, ClusterError)
    finally:
        grading.close()


def test_the_slurm_job_scripts_hold_the_gpu_exclusive_and_resource_lines():
    pytest.importorskip("dask_jobqueue", reason="the cluster extra is not installed")
    section = {
        "kind": "slurm",
        "queue": "cpu",
        "cores": 16,
        "memory": "60GB",
        "walltime": "04:00:00",
        "jobs": 8,
        "gpu": {"queue": "gpu", "cores": 8, "jobs": 2},
    }
    scripts = slurm_job_scripts(section)
    cpu, gpu = scripts["cpu"], scripts["gpu"]
    assert "#SBATCH --exclusive" in cpu and "#SBATCH -p cpu" in cpu and f"slot={SLOTS}" in cpu
    assert "gres" not in cpu and f"{GPU}=1" not in cpu
    assert "#SBATCH --exclusive" in gpu and "#SBATCH --gres=gpu:1" in gpu and "#SBATCH -p gpu" in gpu
    assert f"slot={SLOTS},{GPU}=1" in gpu and "--nthreads 8" in gpu


def test_grade_all_cli_on_a_local_cluster_and_a_scheduler_that_is_not_there(a_class, tmp_path):
    subs, *_ = a_class
    folder = _copy(subs, tmp_path / "subs")
    grader = str(BIN / "grader")
    done = subprocess.run(
        [grader, "grade-all", "a1", "--submissions", str(folder), "--course", str(ROOT), "--cluster", "local"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "correctness: 3 graded" in done.stdout and "worker tcp://" in done.stdout  # the per-worker summary
    assert (folder / "report" / "gradebook.csv").is_file()
    gone = subprocess.run(
        [grader, "grade-all", "a1", "--submissions", str(folder), "--course", str(ROOT), "--cluster", "tcp://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert gone.returncode != 0 and "Traceback" not in gone.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in gone.stdout + gone.stderr
