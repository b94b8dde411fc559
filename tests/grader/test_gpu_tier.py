"""The GPU tier without a GPU: the strict simulator catches GPU bugs, GPU speed defers, `grader merge` fills it in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from grader.classroom.merge import MergeError, merge_files, merge_reports
from grader.core.results import Machine, Status
from grader.run.grade import grade_submission

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

CHECK_PLANTED_BUGS = """
import sys
sys.path.insert(0, {bench!r})
import numpy as np
from simulator_bugs import CASES, caught
from grader.worker.simulator.strict import strict_simulator

rng = np.random.default_rng(7)
for name, variant, kernel, runner in CASES:
    with strict_simulator():
        hits = [caught(kernel, runner, rng)[0] for _ in range(2)]
    print(name, "|", variant, "|", sum(hits))
"""


def test_strict_simulator_catches_each_planted_bug_and_passes_the_references():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    code = CHECK_PLANTED_BUGS.format(bench=str(ROOT / "benchmarks"))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line.split(" | ") for line in done.stdout.strip().splitlines()]
    assert len(rows) == 15
    for name, variant, hits in rows:
        expected = 0 if variant.startswith("reference") else 2
        assert int(hits) == expected, f"{name} / {variant}: caught {hits} of 2"


def test_plain_simulator_misses_what_strict_mode_catches():
    """The reason strict mode exists: numba's simulator alone lets a lost update and a wrapped index through."""
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r})\n"
        "import numpy as np\nfrom simulator_bugs import *\n"
        "rng = np.random.default_rng(3)\n"
        "print(caught(hist_non_atomic, run_hist, rng)[0], caught(stencil_negative_index, run_stencil, rng)[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["False", "False"]


def test_undoing_the_strict_simulator_is_tampering(a1, make_submission):
    undo = """
from numba.cuda.simulator import kernelapi as _kernelapi
import numpy as _np


def _lenient(self, shape, dtype, alignment=None):
    return _np.zeros(shape, dtype)


_kernelapi.FakeCUDAShared.array = _lenient
"""
    report = grade_submission(a1, make_submission(undo), hidden=False, gpu="cudasim", select=["fourier.*.correctness"])
    hit = [t for t in report.tests if "tampering detected" in t.message]
    assert hit and all(t.score == 0 for t in hit)
    assert any("CUDA simulator FakeCUDAShared.array" in t.message for t in hit), [t.message for t in hit]


@pytest.fixture(scope="module")
def two_machines(a1, tmp_path_factory):
    """The reference solution graded without GPU backend (CI) and under the simulator, as JSON files."""
    folder = tmp_path_factory.mktemp("runs")
    select = ["fourier.gpu"]
    none = grade_submission(a1, a1.solution_dir, hidden=False, gpu="none", select=select)
    sim = grade_submission(a1, a1.solution_dir, hidden=False, gpu="cudasim", select=select)
    none.write_json(folder / "none.json")
    sim.write_json(folder / "sim.json")
    return folder, none, sim


def test_without_any_backend_gpu_tests_are_deferred_never_passed(two_machines):
    _, none, sim = two_machines
    assert none.tests and {t.status for t in none.tests} == {Status.deferred} and none.score == 0
    by_kind = {t.kind: t.status for t in sim.tests}
    assert by_kind == {"correctness": Status.passed, "performance": Status.deferred}


def test_merge_fills_deferred_tests_and_keeps_provenance(two_machines, tmp_path):
    folder, none, sim = two_machines
    merged = merge_files([folder / "sim.json", folder / "none.json"])
    by_kind = {t.kind: t for t in merged.tests}
    assert by_kind["correctness"].status is Status.passed
    assert by_kind["correctness"].provenance["source"] == str(folder / "sim.json")
    assert by_kind["correctness"].provenance["gpu"] == "cudasim"
    assert by_kind["performance"].status is Status.deferred  # no run measured it: still deferred, never passed
    assert merged.score == sim.score


def test_merge_takes_gpu_speed_from_the_gpu_machine_and_prefers_it_for_gpu_parts(two_machines):
    _, none, sim = two_machines
    perf = next(t for t in sim.tests if t.kind == "performance")
    correct = next(t for t in sim.tests if t.kind == "correctness")
    # What the course's GPU machine reports for the same submission (written by hand: no GPU here).
    gpu_box = replace(
        sim,
        machine=Machine(cores=16, gpu="cuda", hostname="gpu-box", gpu_name="NVIDIA H100"),
        graded_at="2000-01-01T00:00:00+00:00",  # older than the simulator run: the GPU still wins for GPU parts
        tests=(
            replace(correct, message="full sizes"),
            replace(perf, status=Status.passed, score=perf.max_score, message="31.0× (30.1–31.9), target 20.00×"),
        ),
    )
    merged = merge_reports([("ci", none), ("sim", sim), ("gpu", gpu_box)])
    by_kind = {t.kind: t for t in merged.tests}
    assert by_kind["performance"].status is Status.passed and by_kind["performance"].provenance["host"] == "gpu-box"
    assert by_kind["correctness"].provenance["source"] == "gpu" and by_kind["correctness"].message == "full sizes"
    assert merged.score == sim.score + perf.max_score
    assert merged.machine.gpu == "cuda"
    assert len(merged.tests) == len(sim.tests), "each test once"


def test_merge_refuses_other_assignments_and_bad_files(two_machines, tmp_path):
    folder, none, _ = two_machines
    other = replace(none, assignment="a9_other")
    with pytest.raises(MergeError, match="different assignments"):
        merge_reports([("a", none), ("b", other)])
    (tmp_path / "junk.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(MergeError, match="not a grader results file"):
        merge_files([folder / "none.json", tmp_path / "junk.json"])
    with pytest.raises(MergeError, match="does not exist"):
        merge_files([tmp_path / "missing.json"])


def test_merge_command_writes_the_merged_results(two_machines, tmp_path):
    folder, _, sim = two_machines
    out = tmp_path / "final.json"
    done = subprocess.run(
        [str(BIN / "grader"), "merge", str(folder / "none.json"), str(folder / "sim.json"), "-o", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads(out.read_text())
    assert written["score"] == sim.score and all(t["provenance"] for t in written["tests"])
    bad = subprocess.run(
        [str(BIN / "grader"), "merge", str(tmp_path / "nope.json"), "-o", str(out)], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr


def test_a_cuda_feature_the_simulator_lacks_defers_the_line_instead_of_failing_it(a1, make_submission):
    """`cuda.nanosleep` exists on a GPU but not in numba's simulator: not the student's fault."""
    uses_nanosleep = """
@cuda.jit
def fourier_kernel(x, terms, out):
    i = cuda.grid(1)
    if i < x.shape[0]:
        cuda.nanosleep(10)
        acc = 0.0
        for k in range(terms):
            n = 2 * k + 1
            acc += math.sin(n * x[i]) / n
        out[i] = acc * (4.0 / math.pi)
"""
    folder = make_submission(uses_nanosleep)
    report = grade_submission(a1, folder, hidden=False, gpu="cudasim", select=["fourier.gpu.correctness"])
    assert report.tests and {t.status for t in report.tests} == {Status.deferred}, [(t.status, t.message) for t in report.tests]
    assert all("cuda.nanosleep is not available in the CUDA simulator" in t.message for t in report.tests)
    assert report.score == 0


HOST_CONVERSION = """
_reference_fourier_gpu = fourier_gpu


def fourier_gpu(x, terms):
    x = np.asarray(x)  # fine for NumPy, refused by CuPy on a GPU
    return _reference_fourier_gpu(cuda.to_device(x), terms)
"""

READS_WITH_GET = """
_reference_fourier_gpu = fourier_gpu


def fourier_gpu(x, terms):
    host = x.get()  # CuPy's own way to read a device array on the host
    return _reference_fourier_gpu(cuda.to_device(host), terms)
"""


def test_simulated_gpu_inputs_refuse_host_conversion_as_cupy_does(a1, make_submission):
    """Under the simulator a GPU function's inputs stand in for CuPy arrays: `np.asarray(x)` fails
    here as it would on the GPU machine, while CuPy's `.get()` works."""
    refused = grade_submission(
        a1, make_submission(HOST_CONVERSION), hidden=False, gpu="cudasim", select=["fourier.gpu.correctness"]
    )
    assert refused.tests and {t.status for t in refused.tests} == {Status.failed}, [(t.status, t.message) for t in refused.tests]
    assert all("Implicit conversion to a NumPy array is not allowed" in t.message for t in refused.tests)
    allowed = grade_submission(
        a1, make_submission(READS_WITH_GET, name="get"), hidden=False, gpu="cudasim", select=["fourier.gpu.correctness"]
    )
    assert allowed.tests and {t.status for t in allowed.tests} == {Status.passed}, [(t.status, t.message) for t in allowed.tests]


BREAKS_THE_CONTEXT = """
from numba.cuda.cudadrv.driver import CudaAPIError

_reference_fourier_gpu = fourier_gpu


def fourier_gpu(x, terms):
    if x.size == 257:  # one test's input: an out-of-bounds kernel, as a real GPU reports it
        raise CudaAPIError(700, "Call to cuCtxSynchronize results in CUDA_ERROR_ILLEGAL_ADDRESS")
    return _reference_fourier_gpu(x, terms)
"""


def test_a_test_that_breaks_the_gpu_context_costs_only_itself(a1, make_submission):
    """On a GPU an illegal address leaves the process's CUDA context unusable: every later GPU test
    in that worker would fail. The error is faked where CUDA raises it; the worker stops after
    recording that test and a fresh one runs the rest."""
    report = grade_submission(
        a1, make_submission(BREAKS_THE_CONTEXT), hidden=True, gpu="cudasim", select=["fourier.gpu.correctness"]
    )
    broken = [t for t in report.tests if "ILLEGAL_ADDRESS" in t.message]
    assert len(broken) == 1 and broken[0].score == 0
    rest = [t for t in report.tests if t is not broken[0]]
    assert rest and all(t.status is Status.passed for t in rest), [(t.name, t.message) for t in rest]
    assert any("left the GPU context unusable" in f and "fresh worker" in f for f in report.flags), report.flags


def test_gpu_kernels_compile_without_fused_multiply_add_unless_fastmath():
    from grader.worker.gpu import without_fused_multiply_add

    calls = []
    compile_ir = without_fused_multiply_add(lambda ir, **options: calls.append(options))
    compile_ir("ir", opt=3, fastmath=False)
    compile_ir("ir", opt=3, fastmath=True)  # the kernel asked for fast math: NVVM's own choice stands
    assert calls == [{"opt": 3, "fastmath": False, "fma": False}, {"opt": 3, "fastmath": True}]


def test_the_backend_is_probed_the_way_the_worker_uses_it(monkeypatch):
    """A machine that shows an NVIDIA device but cannot run numba.cuda with CuPy (no driver, no
    CuPy) grades GPU lines in the simulator and leaves GPU speed pending; asking for cuda there
    says why instead of failing every GPU test."""
    from grader.core import devices

    devices.cuda_probe.cache_clear()
    monkeypatch.setattr(devices.glob, "glob", lambda pattern: ["/dev/nvidia0"])  # a device node, nothing behind it
    monkeypatch.delenv(devices.BACKEND_ENV, raising=False)
    try:
        name, why = devices.cuda_probe()
        assert name is None and why, why
        assert devices.choose_backend("auto") == ("cudasim", "")
        with pytest.raises(ValueError, match="cannot be used here"):
            devices.choose_backend("cuda")
    finally:
        devices.cuda_probe.cache_clear()


def test_gpu_check_stops_early_and_clearly_without_a_gpu(tmp_path):
    done = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), str(tmp_path / "out")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and done.stderr.startswith("gpu_check: "), done.stderr
    assert "gpu extra is not installed" in done.stderr or "no NVIDIA GPU" in done.stderr
    assert not (tmp_path / "out").exists()
