"""Probes for the first machine with an NVIDIA GPU (run by gpu_check.sh; each prints one JSON line).

    python benchmarks/gpu_probes.py versions|smoke|fma|tiles|dot|stream

- versions: numba, numba-cuda, CuPy, the CUDA bindings, the device and its compute capability.
- smoke: in a child process under the worker's own limits (RLIMIT_DATA on a GPU): a numba kernel
  on a CuPy array, a 1 GiB device allocation, pinned host buffers, and the peak VmData.
- fma: is `a * b + c` fused in the PTX, by default and with the grader's compile option?
- tiles: a5's Mandelbrot tiles at the timed max_iter, GPU reference vs `tiles_serial`, pixels that
  differ, with NVVM's default contraction and without it.
- dot: a2's dot product over the timed size, GPU reference vs `dot_serial`, and the bound the
  timed check allows.
- stream: a kernel launched on a non-blocking stream of its own, timed by synchronizing CuPy's
  current stream only and by synchronizing the device.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["NUMBA_ENABLE_CUDASIM"] = "0"


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def versions() -> None:
    from numba import cuda

    found = {}
    for dist in ("numba", "numba-cuda", "cupy-cuda12x", "cuda-python", "cuda-bindings", "nvidia-cuda-nvrtc-cu12"):
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            found[dist] = None
    device = cuda.get_current_device()
    name = device.name.decode() if isinstance(device.name, bytes) else str(device.name)
    emit(probe="versions", **found, device=name, compute_capability=list(device.compute_capability))


SMOKE_CHILD = """
import json, numpy as np, cupy
from numba import cuda

@cuda.jit
def double(a):
    i = cuda.grid(1)
    if i < a.shape[0]:
        a[i] *= 2

x = cupy.arange(1 << 20, dtype=cupy.float64)
double[(x.size + 255) // 256, 256](x)
ok_kernel = bool((x[:4].get() == [0, 2, 4, 6]).all())
big = cupy.empty(1 << 27, dtype=cupy.float64)  # 1 GiB on the device
big.fill(1.0)
ok_big = float(big[:8].sum().get()) == 8.0
pinned = cuda.pinned_array(1 << 24, dtype=np.float64)  # 128 MiB of pinned host memory
pinned[:] = 1.0
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({"kernel": ok_kernel, "gib_on_device": ok_big, "pinned_mib": pinned.nbytes >> 20,
                  "vm_data": status["VmData"].strip(), "vm_peak": status["VmPeak"].strip()}))
"""


def smoke() -> None:
    from grader.run.limits import Limits

    limits = Limits()
    done = subprocess.run(
        [sys.executable, "-c", SMOKE_CHILD], capture_output=True, text=True, timeout=300, preexec_fn=limits.preexec(gpu=True)
    )
    result = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 and done.stdout.strip() else {}
    emit(probe="smoke", exit_code=done.returncode, data_limit_mb=limits.memory_mb, **result, stderr=done.stderr[-600:])


def fma() -> None:
    from numba import cuda, float64
    from numba.cuda.cudadrv import nvvm

    from grader.worker.gpu import match_cpu_arithmetic

    def muladd(out, a, b, c):
        i = cuda.grid(1)
        if i < out.shape[0]:
            out[i] = a[i] * b[i] + c[i]

    sig = (float64[:], float64[:], float64[:], float64[:])
    default = cuda.compile_ptx(muladd, sig)[0]
    match_cpu_arithmetic()
    graders = cuda.compile_ptx(muladd, sig)[0]
    emit(probe="fma", fused_by_default="fma.rn" in default, fused_with_grader_option="fma.rn" in graders,
         patched=hasattr(nvvm.compile_ir, "__wrapped__"))  # fmt: skip


def _load(assignment: str, module: str):
    spec = importlib.util.spec_from_file_location(f"sol_{assignment}", ROOT / "solutions" / assignment / f"{module}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def tiles() -> None:
    import numpy as np

    from grader.core.course import Course

    a5 = Course(ROOT).resolve("a5")
    perf = a5.spec.part("tiles", "gpu").performance
    side = int(round(perf.size**0.5))
    max_iter = perf.params["max_iter"]
    sys.path.insert(0, str(a5.folder))
    public = importlib.import_module("test_public")
    pts = public.plane(side, side, seed=0)
    out = {}
    for label in ("nvvm default", "grader option"):
        if label == "grader option":
            from grader.worker.gpu import match_cpu_arithmetic

            match_cpu_arithmetic()
        sol = _load("a5_pipelines", "pipelines")  # compiled afresh, with the option in force
        from grader.worker.gpu import GpuContext

        gpu = GpuContext("cuda")
        got = gpu.to_host(sol.tiles_gpu(gpu.to_device(pts), max_iter))
        want = sol.tiles_serial(pts, max_iter)
        out[label] = int(np.count_nonzero(got != want))
    emit(probe="tiles", max_iter=max_iter, pixels=int(pts.shape[0] * pts.shape[1]) if pts.ndim > 1 else int(pts.size),
         differing=out)  # fmt: skip


def dot() -> None:
    import cupy
    import numpy as np

    from grader.core.course import Course

    a2 = Course(ROOT).resolve("a2")
    n = a2.spec.part("dot", "gpu").performance.size
    sol = _load("a2_races", "races")
    rows = []
    for seed in range(3):
        ab = np.random.default_rng(seed).uniform(-1, 1, (2, n))
        got = float(sol.dot_gpu(cupy.asarray(ab[0]), cupy.asarray(ab[1])))
        want = float(sol.dot_serial(ab[0], ab[1]))
        exact = float(np.sum(np.multiply(ab[0], ab[1], dtype=np.longdouble)))
        rows.append({"seed": seed, "gpu_minus_serial": got - want, "gpu_minus_exact": got - exact,
                     "serial_minus_exact": want - exact, "allowed": 1e-9 * n})  # fmt: skip
    emit(probe="dot", n=n, rounds=rows)


def stream() -> None:
    import cupy
    from numba import cuda

    @cuda.jit
    def spin(a, reps):
        i = cuda.grid(1)
        if i < a.shape[0]:
            v = a[i]
            for _ in range(reps):
                v = v * 1.0000001 + 1e-9
            a[i] = v

    x = cupy.ones(1 << 20)
    own = cuda.stream()  # numba streams are non-blocking with respect to the legacy default stream
    spin[(x.size + 255) // 256, 256](x, 10)  # compile
    cuda.synchronize()
    times = {}
    for label, sync in (("current stream only", lambda: cupy.cuda.get_current_stream().synchronize()),
                        ("whole device", lambda: cupy.cuda.Device().synchronize())):  # fmt: skip
        t0 = time.perf_counter()
        spin[(x.size + 255) // 256, 256, own](x, 20000)
        sync()
        times[label] = time.perf_counter() - t0
        cuda.synchronize()
    emit(probe="stream", seconds=times)


if __name__ == "__main__":
    probes = {"versions": versions, "smoke": smoke, "fma": fma, "tiles": tiles, "dot": dot, "stream": stream}
    if len(sys.argv) != 2 or sys.argv[1] not in probes:
        sys.exit(f"usage: gpu_probes.py {'|'.join(probes)}")
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    probes[sys.argv[1]]()
