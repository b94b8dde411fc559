"""A stricter CUDA simulator: make the bugs a real GPU punishes visible on a machine without one.

numba's simulator runs every CUDA thread of a block as a Python thread, block after block. Left as
it is, it hides the bugs students make most: a non-atomic `bins[v] += 1` comes out right because
the GIL rarely switches threads mid-update, a missing `cuda.syncthreads()` goes unnoticed when the
uninitialised shared array happens to hold the right values, and `x[i - 1]` at `i = 0` silently
reads the last element. `strict_simulator()` changes that, for staff-run tests only:

- poison: shared and local arrays, and arrays made by `cuda.device_array*`, start as NaN (floats)
  or the most negative integer, so reading a slot no thread wrote, or leaving an output element
  unwritten, shows up as a wrong answer;
- interleaving: while a kernel runs, the interpreter switches threads every microsecond instead of
  every 5 ms, so a read-modify-write of shared or global memory is interrupted by other threads
  and loses updates the way it does on a GPU;
- negative indices into device arrays raise `IndexError` (on a GPU they read outside the array);
  indices past the end already raise in the simulator.

Nothing here runs on a real GPU; it only touches numba's simulator classes, which exist only when
`NUMBA_ENABLE_CUDASIM=1` was set before numba was imported.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import traceback
from typing import Any, Iterator

import numpy as np

SWITCH_INTERVAL_S = 1e-4  # the GIL hands over at least this often inside a simulated kernel (Python's default: 5 ms)
_lock = threading.Lock()
_depth = 0


def poison_value(dtype: np.dtype) -> Any:
    """What an unwritten slot holds: NaN for floats (complex: NaN+NaN·j), the minimum for integers, True for bools."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind in "iu":
        return np.iinfo(dtype).min if dtype.kind == "i" else np.iinfo(dtype).max
    if dtype.kind == "b":
        return True
    return 0


def _poisoned(shape: Any, dtype: Any) -> np.ndarray:
    dtype = np.dtype(dtype)
    out = np.empty(shape, dtype)
    if dtype.fields is None:
        out.fill(poison_value(dtype))
    return out


def _yield() -> None:
    """Let the other simulated threads run now: between a read and the write that depends on it."""
    time.sleep(0)


class YieldingArray(np.ndarray):
    """A shared-memory array whose every element read hands the GIL over, as a GPU's memory latency would.

    NumPy's `a[i] += 1` is one C call per step and the interpreter never switches threads inside it,
    so in the plain simulator a non-atomic update cannot lose anything. Here it can, and does.
    """

    def __getitem__(self, idx):
        value = super().__getitem__(idx)
        if not isinstance(value, np.ndarray):
            _yield()
        return value


def _check_index(idx: Any, shape: tuple[int, ...]) -> None:
    items = idx if isinstance(idx, tuple) else (idx,)
    for axis, item in enumerate(items):
        if isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)) and item < 0:
            raise IndexError(
                f"negative index {int(item)} on axis {axis} of a device array of shape {shape}: "
                "on a GPU this reads or writes outside the array (guard the thread index)"
            )


@contextlib.contextmanager
def strict_simulator() -> Iterator[None]:
    """Patch numba's CUDA simulator for the duration (re-entrant); a no-op when it is not loaded."""
    global _depth
    try:
        from numba.cuda.simulator import kernel as sim_kernel
        from numba.cuda.simulator import kernelapi
        from numba.cuda.simulator.cudadrv import devicearray
    except ImportError:
        yield
        return
    with _lock:
        _depth += 1
        first = _depth == 1
        if first:
            saved = _install(sim_kernel, kernelapi, devicearray)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and first:
                for owner, name, original in saved:
                    setattr(owner, name, original)


_installed: list[tuple[Any, str, Any]] = []


def install() -> list[tuple[Any, str]]:
    """Make the strict simulator permanent in this process (the grading worker under `cudasim`).

    Returns the (owner, attribute) pairs it replaced, for the tamper guard to watch: a submission
    that put numba's lenient versions back would hide its own races.
    """
    global _depth
    if not _installed:
        try:
            from numba.cuda.simulator import kernel as sim_kernel
            from numba.cuda.simulator import kernelapi
            from numba.cuda.simulator.cudadrv import devicearray
        except ImportError:
            return []
        with _lock:
            _installed.extend(_install(sim_kernel, kernelapi, devicearray))
            _depth += 1  # nested strict_simulator() blocks leave it in place
    return [(owner, name) for owner, name, _ in _installed]


def _install(sim_kernel: Any, kernelapi: Any, devicearray: Any) -> list[tuple[Any, str, Any]]:
    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, new: Any) -> None:
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, new)

    def poisoned_shared(self, shape, dtype, alignment=None):
        # numba's own logic (one allocation per source line of the kernel), with poisoned contents.
        if alignment is not None:
            raise RuntimeError("Array alignment is not supported in cudasim")
        dtype = _as_dtype(dtype)
        if shape == 0:  # dynamic shared memory: one buffer for the whole block
            return np.frombuffer(self._dynshared.data, dtype=dtype, count=self._dynshared_size // dtype.itemsize)
        caller = traceback.extract_stack(sys._getframe())[-2][0:2]
        res = self._allocations.get(caller)
        if res is None:
            # All threads of the block arrive here at once; the first array stored is the block's
            # (setdefault is atomic): a thread switch mid-allocation must not give two threads two arrays.
            res = self._allocations.setdefault(caller, _poisoned(shape, dtype).view(YieldingArray))
        return res

    patch(kernelapi.FakeCUDAShared, "array", poisoned_shared)

    def poisoned_local(self, shape, dtype, alignment=None):
        if alignment is not None:
            raise RuntimeError("Array alignment is not supported in cudasim")
        return _poisoned(shape, _as_dtype(dtype))

    patch(kernelapi.FakeCUDALocal, "array", poisoned_local)

    within = devicearray.FakeWithinKernelCUDAArray
    getitem, setitem = within.__getitem__, within.__setitem__

    def checked_getitem(self, idx):
        _check_index(idx, self._item.shape)
        value = getitem(self, idx)
        if isinstance(value, (np.generic, int, float, complex)):
            _yield()  # global memory: the same race as shared memory
        return value

    def checked_setitem(self, idx, val):
        _check_index(idx, self._item.shape)
        return setitem(self, idx, val)

    patch(within, "__getitem__", checked_getitem)
    patch(within, "__setitem__", checked_setitem)

    call = sim_kernel.FakeCUDAKernel.__call__

    def interleaved_call(self, *args):
        if self._device or sim_kernel._kernel_context:
            return call(self, *args)
        before = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        try:
            return call(self, *args)
        finally:
            sys.setswitchinterval(before)

    patch(sim_kernel.FakeCUDAKernel, "__call__", interleaved_call)

    import numba.cuda
    from numba.cuda import simulator as sim_api

    for name in ("device_array", "device_array_like", "pinned_array", "pinned_array_like", "mapped_array", "managed_array"):
        original = getattr(devicearray, name, None)
        if original is None:
            continue
        poisoning = _poisoning(original)
        for module in (devicearray, sim_api, numba.cuda):  # every name a kernel's caller may use
            if getattr(module, name, None) is original:
                patch(module, name, poisoning)
    return saved


def _as_dtype(dtype: Any) -> np.dtype:
    from numba.core import types
    from numba.np import numpy_support

    return numpy_support.as_dtype(dtype) if isinstance(dtype, types.Type) else np.dtype(dtype)


def _poisoning(make: Any) -> Any:
    def wrapped(*args, **kwargs):
        out = make(*args, **kwargs)
        host = getattr(out, "_ary", out)
        if isinstance(host, np.ndarray) and host.dtype.fields is None:
            host.fill(poison_value(host.dtype))
        return out

    wrapped.__wrapped__ = make  # type: ignore[attr-defined]
    return wrapped
