"""GPU arrays for tests, whatever the backend: CuPy on a real GPU, NumPy under the simulator.

Tests never import CuPy themselves: they ask the `gpu` fixture (a `GpuContext`) to move arrays and
to say whether timing means anything here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .testkit import defer


@dataclass(frozen=True)
class GpuContext:
    backend: str  # cuda | cudasim | none

    @property
    def simulated(self) -> bool:
        return self.backend == "cudasim"

    def sizes(self, part: Any) -> list[int]:
        """The spec's input sizes that this backend can afford (the simulator runs ~10^4 threads/s)."""
        return list(part.simulator_sizes if self.simulated and part.simulator_sizes else part.sizes)

    def to_device(self, array: np.ndarray) -> Any:
        if self.backend == "cuda":
            import cupy

            return cupy.asarray(array)
        return np.array(array, copy=True)

    def to_host(self, array: Any) -> Any:
        """A NumPy copy of a result: from CuPy (`.get`), numba device arrays (`.copy_to_host`) or NumPy.
        Anything else is returned unchanged so the checks can say what type came back."""
        if isinstance(array, np.ndarray):
            return array
        if hasattr(array, "copy_to_host"):
            return array.copy_to_host()
        if hasattr(array, "get") and hasattr(array, "__cuda_array_interface__"):
            return array.get()
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
