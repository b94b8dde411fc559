"""GPU arrays for tests, whatever the backend: CuPy on a real GPU, NumPy under the simulator.

Tests never import CuPy themselves: they ask the `gpu` fixture (a `GpuContext`) to move arrays and
to say whether timing means anything here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .simulator.strict import cupy_like, is_cupy_like
from .testkit import defer


def without_fused_multiply_add(compile_ir: Callable[..., Any]) -> Callable[..., Any]:
    """``compile_ir`` with NVVM's fused multiply-add off unless the kernel asked for fastmath.

    NVVM contracts ``a * b + c`` into one FMA by default; numba on the CPU does not. An escape-time
    count (a5's Mandelbrot tiles) then differs from the serial reference on a few boundary pixels
    (2-17 of 147,456 at max_iter 300), and an exact check fails a correct kernel. Compiled without
    contraction, a kernel does the CPU's arithmetic bit for bit; staff and student kernels alike.
    """

    def compile_without_fma(llvmir: Any, **options: Any) -> Any:
        if not options.get("fastmath"):
            options.setdefault("fma", False)
        return compile_ir(llvmir, **options)

    compile_without_fma.__wrapped__ = compile_ir  # type: ignore[attr-defined]
    return compile_without_fma


def match_cpu_arithmetic() -> None:
    """In the worker on a real GPU: kernels compile without FMA contraction (see above)."""
    from numba.cuda.cudadrv import nvvm

    if not hasattr(nvvm.compile_ir, "__wrapped__"):
        nvvm.compile_ir = without_fused_multiply_add(nvvm.compile_ir)


@dataclass(frozen=True)
class GpuContext:
    backend: str  # cuda | cudasim | none

    @property
    def simulated(self) -> bool:
        return self.backend == "cudasim"

    def sizes(self, part: Any) -> list[int]:
        """The spec's input sizes that this backend can afford (the strict simulator runs a few
        thousand threads a second: 1.5-3x10^3 measured with blocks of 128)."""
        return list(part.simulator_sizes if self.simulated and part.simulator_sizes else part.sizes)

    def to_device(self, array: np.ndarray) -> Any:
        if self.backend == "cuda":
            import cupy

            return cupy.asarray(array)
        if self.backend == "cudasim":
            return cupy_like(np.array(array, copy=True))  # refuses np.asarray as CuPy does
        return np.array(array, copy=True)

    def to_host(self, array: Any) -> Any:
        """A NumPy copy of a result: from CuPy (`.get`), numba device arrays (`.copy_to_host`) or NumPy.
        Anything else is returned unchanged so the checks can say what type came back."""
        if isinstance(array, np.ndarray):
            return array
        if is_cupy_like(array) or (hasattr(array, "get") and hasattr(array, "__cuda_array_interface__")):
            return array.get()  # CuPy, or the simulator's stand-in for it
        if hasattr(array, "copy_to_host"):
            return array.copy_to_host()
        return array

    def synchronize(self) -> None:
        """Wait for all work on the device, on every stream (a student's own non-blocking stream too)."""
        if self.backend == "cuda":
            import cupy

            cupy.cuda.Device().synchronize()

    def require_real_gpu(self) -> None:
        """Performance means nothing under the simulator: defer unless a CUDA GPU runs the test."""
        if self.backend != "cuda":
            defer("needs a CUDA GPU; graded on the course GPU machine")
