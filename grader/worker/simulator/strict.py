"""A stricter CUDA simulator: make the bugs a real GPU punishes visible on a machine without one.

numba's simulator runs every CUDA thread of a block as a Python thread, block after block. Left as
it is, it hides the bugs students make most: a non-atomic `bins[v] += 1` comes out right because
the GIL rarely switches threads mid-update and blocks never run at the same time, a missing
`cuda.syncthreads()` goes unnoticed when the uninitialised shared array happens to hold the right
values, and `x[i - 1]` at `i = 0` silently reads the last element. `strict_simulator()` (and
`install()` in the grading worker) changes that:

- races: every element access to global and shared memory is recorded and a conflicting pair of
  unordered accesses fails the launch with both threads named (`grader.worker.simulator.races`), so a race is a
  verdict, the same on every run, not a wrong number that shows up by chance;
- poison: shared and local arrays, and arrays made by `cuda.device_array*`, start as NaN (floats)
  or the most negative integer, and every block gets fresh shared memory, so reading a slot no
  thread of this block wrote, or leaving an output element unwritten, shows up as a wrong answer;
- warps: shuffles, votes, `syncwarp`, `activemask` and `lanemask_lt` work with the semantics of a
  32-lane warp (`grader.worker.simulator.warps`);
- streams: a `copy_to_host` on a stream lands only when the program synchronizes, so results read
  too early are poison, as they would be undefined on a GPU (`grader.worker.simulator.streams`);
- negative indices into device and shared arrays raise `IndexError`. On a GPU numba wraps them
  around as Python does (`a[-1]` is the last element), silently: in a kernel that is almost
  always a thread index gone below zero reading or writing some other thread's element. Stricter
  than a GPU on purpose; indices past the end already raise in the simulator.

Where the simulator stays stricter than a GPU on purpose: a `raise` inside a kernel fails the
launch here, while a GPU compiled without `debug=True` ignores it and carries on.

Nothing here runs on a real GPU; it only touches numba's simulator classes, which exist only when
`NUMBA_ENABLE_CUDASIM=1` was set before numba was imported.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Any, Iterator

import numpy as np

from . import blocks, races, streams, warps
from .poison import poison_value

_lock = threading.Lock()
_depth = 0
_MISSING = object()


def _poisoned(shape: Any, dtype: Any) -> np.ndarray:
    dtype = np.dtype(dtype)
    out = np.empty(shape, dtype)
    if dtype.fields is None:
        out.fill(poison_value(dtype))
    return out


class NotSimulated(AttributeError):
    """Kernel code uses a CUDA feature the simulator cannot run: the test is deferred to a GPU, not failed."""

    def __init__(self, message: str) -> None:
        super().__init__(races.without_thread_prefix(message))


def _check_index(idx: Any, shape: tuple[int, ...], what: str = "a device array") -> None:
    if type(idx) is int and shape and 0 <= idx < shape[0]:
        return  # the common case, quickly
    items = idx if isinstance(idx, tuple) else (idx,)
    for axis, item in enumerate(items):
        if not isinstance(item, (int, np.integer)) or isinstance(item, (bool, np.bool_)) or axis >= len(shape):
            continue
        if item < 0:
            raise IndexError(
                f"negative index {int(item)} on axis {axis} of {what} of shape {shape}: "
                "on a GPU it would silently wrap around to the other end of the array (guard the thread index)"
            )
        if item >= shape[axis]:
            raise IndexError(
                f"index {int(item)} is past the end of axis {axis} of {what} of shape {shape}: the launch has more "
                "threads than elements, so a thread whose index is out of range must do nothing (guard it, e.g. "
                "`if i < out.shape[0]:`); on a GPU it would read garbage or write over other memory"
            )


class SharedArray(np.ndarray):
    """A block's shared-memory array: negative indices raise and every element access is recorded
    for the race detector (NumPy's own indexing would wrap and go unseen)."""

    _race_label = "a shared array"

    def __array_finalize__(self, obj: Any) -> None:
        if obj is not None:
            self._race_label = getattr(obj, "_race_label", SharedArray._race_label)

    def __getitem__(self, idx):
        _check_index(idx, self.shape, self._race_label)
        value = super().__getitem__(idx)
        detector = races.active()
        if detector is not None and not isinstance(value, np.ndarray):
            address = races.element_address(self, idx)
            if address is not None:
                detector.record(address, True, races.READ, None, idx, 2)
        return value

    def __setitem__(self, idx, val):
        _check_index(idx, self.shape, self._race_label)
        detector = races.active()
        if detector is not None:
            address = races.element_address(self, idx)
            if address is not None:
                detector.record(address, True, races.WRITE, val, idx, 2)
        super().__setitem__(idx, val)


@contextlib.contextmanager
def strict_simulator() -> Iterator[None]:
    """Patch numba's CUDA simulator for the duration (re-entrant); a no-op when it is not loaded."""
    global _depth
    modules = _simulator()
    if modules is None:
        yield
        return
    with _lock:
        _depth += 1
        first = _depth == 1
        if first:
            saved = _install(*modules)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and first:
                _restore(saved)


_installed: list[tuple[Any, str, Any]] = []


def install() -> list[tuple[Any, str]]:
    """Make the strict simulator permanent in this process (the grading worker under `cudasim`).

    Returns the (owner, attribute) pairs it replaced, for the tamper guard to watch: a submission
    that put numba's lenient versions back would hide its own races.
    """
    global _depth
    if not _installed:
        modules = _simulator()
        if modules is None:
            return []
        with _lock:
            _installed.extend(_install(*modules))
            _depth += 1  # nested strict_simulator() blocks leave it in place
    checks = [(races.RaceDetector, name) for name in ("record", "_check", "_store")]
    checks += [(races, name) for name in ("active", "element_address")] + [(warps, "_exchange")]
    checks += [(blocks, name) for name in ("current", "pause", "run_block")]
    checks += [(streams, name) for name in ("is_async", "enqueue", "flush", "flush_all", "before_launch")]
    return [(owner, name) for owner, name, _ in _installed] + checks


def _simulator() -> tuple[Any, Any, Any] | None:
    try:
        from numba.cuda.simulator import kernel as sim_kernel
        from numba.cuda.simulator import kernelapi
        from numba.cuda.simulator.cudadrv import devicearray
    except ImportError:
        return None
    return sim_kernel, kernelapi, devicearray


def _restore(saved: list[tuple[Any, str, Any]]) -> None:
    for owner, name, original in reversed(saved):
        if original is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, original)


def _install(sim_kernel: Any, kernelapi: Any, devicearray: Any) -> list[tuple[Any, str, Any]]:
    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, new: Any) -> None:
        saved.append((owner, name, owner.__dict__.get(name, _MISSING) if isinstance(owner, type) else getattr(owner, name)))
        setattr(owner, name, new)

    # -- shared memory: fresh and poisoned for every block, every access recorded
    def poisoned_shared(self, shape, dtype, alignment=None):
        if alignment is not None:
            raise RuntimeError("Array alignment is not supported in cudasim")
        dtype = _as_dtype(dtype)
        if shape == 0:  # dynamic shared memory: one buffer for the whole block
            out = np.frombuffer(self._dynshared.data, dtype=dtype, count=self._dynshared_size // dtype.itemsize)
            out = out.view(SharedArray)
            out._race_label = "dynamic shared array"
            return out
        # numba's own rule (one allocation per source line of the kernel), with poisoned contents.
        frame = sys._getframe(1)
        caller = (frame.f_code.co_filename, frame.f_lineno)
        res = self._allocations.get(caller)
        if res is None:
            fresh = _poisoned(shape, dtype).view(SharedArray)
            fresh._race_label = f"shared array (line {caller[1]})"
            # All threads of the block arrive here at once; the first array stored is the block's
            # (setdefault is atomic): a thread switch mid-allocation must not give two threads two arrays.
            res = self._allocations.setdefault(caller, fresh)
        return res

    patch(kernelapi.FakeCUDAShared, "array", poisoned_shared)

    def poisoned_local(self, shape, dtype, alignment=None):
        if alignment is not None:
            raise RuntimeError("Array alignment is not supported in cudasim")
        return _poisoned(shape, _as_dtype(dtype))

    patch(kernelapi.FakeCUDALocal, "array", poisoned_local)

    # -- global memory: negative indices raise, every element access recorded
    within = devicearray.FakeWithinKernelCUDAArray
    getitem, setitem = within.__getitem__, within.__setitem__

    def checked_getitem(self, idx):
        ary = self._item._ary
        _check_index(idx, ary.shape)
        value = getitem(self, idx)
        detector = races.active()
        if detector is not None and not isinstance(value, within):
            address = races.element_address(ary, idx)
            if address is not None:
                detector.record(address, False, races.READ, None, idx, 2)
        return value

    def checked_setitem(self, idx, val):
        ary = self._item._ary
        _check_index(idx, ary.shape)
        detector = races.active()
        if detector is not None:
            address = races.element_address(ary, idx)
            if address is not None:
                detector.record(address, False, races.WRITE, val, idx, 2)
        return setitem(self, idx, val)

    patch(within, "__getitem__", checked_getitem)
    patch(within, "__setitem__", checked_setitem)

    # -- atomics: the accesses they make are atomic ones
    for name, method in list(vars(kernelapi.FakeCUDAAtomic).items()):
        if callable(method) and not name.startswith("__"):
            patch(kernelapi.FakeCUDAAtomic, name, _atomic(method))

    # -- threads: greenlets run by one scheduler (blocks.py); who they are, which barrier phase they are in
    def fresh_block(self, grid_point, *args):
        context = sim_kernel._kernel_context
        if context is not None:
            context._shared._allocations.clear()  # a block never sees another block's shared memory
            context._shared._dynshared.fill(-1)  # all bits set: NaN for floats, -1 for integers
        detector = races.active()
        if detector is not None:
            detector.begin_block()
        threads = self.__dict__["_threads"] = {}
        for point in np.ndindex(*self._block_dim):
            t = _StrictThread(lambda: self._f(*args), self, grid_point, point, self._debug, kernelapi.Dim3)
            threads[t.thread_id] = t
        blocks.run_block(list(threads.values()))

    patch(sim_kernel.BlockManager, "run", fresh_block)

    module = kernelapi.FakeCUDAModule
    patch(module, "threadIdx", property(lambda self: blocks.current().threadIdx))
    patch(module, "blockIdx", property(lambda self: blocks.current().blockIdx))
    patch(module, "laneid", property(lambda self: blocks.current().thread_id % warps.WARP))
    for name in ("syncthreads", "syncthreads_count", "syncthreads_and", "syncthreads_or"):
        patch(module, name, _on_current_thread(name))

    call = sim_kernel.FakeCUDAKernel.__call__

    def recorded_call(self, *args):
        if self._device or sim_kernel._kernel_context:
            return call(self, *args)
        streams.before_launch(self)
        races.begin_launch(self.fn)
        try:
            return call(self, *args)
        finally:
            races.end_launch()

    patch(sim_kernel.FakeCUDAKernel, "__call__", recorded_call)

    # -- warp intrinsics numba's simulator lacks; what it cannot run at all defers the test to a GPU
    for name in warps.NAMES:
        patch(kernelapi.FakeCUDAModule, name, getattr(warps.WarpIntrinsics, name))

    def not_simulated(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise NotSimulated(f"cuda.{name} is not available in the CUDA simulator: this test is graded on a GPU")

    patch(kernelapi.FakeCUDAModule, "__getattr__", not_simulated)

    def grid_sync(self):
        context = sim_kernel._kernel_context
        if context is not None and context.gridDim.x * context.gridDim.y * context.gridDim.z > 1:
            raise NotSimulated(
                "cuda.cg.this_grid().sync() across several blocks cannot be simulated (the simulator runs "
                "blocks one after another): this test is graded on a GPU"
            )
        blocks.current().syncthreads()

    patch(kernelapi.GridGroup, "sync", grid_sync)

    import numba.cuda
    from numba.cuda import simulator as sim_api

    streams.install(patch, sim_api, devicearray, sim_kernel)  # copies on a stream land at synchronization

    _cupy_like_class()
    stream_to_device = devicearray.to_device

    def to_device(ary, stream=0, copy=True, to=None):
        if to is None and is_cupy_like(ary):
            return ary  # numba on a GPU wraps a CuPy array in place, without a copy
        return stream_to_device(ary, stream, copy, to)

    for module in (devicearray, sim_api, numba.cuda):
        if getattr(module, "to_device", None) is stream_to_device:
            patch(module, "to_device", to_device)

    for name in ("device_array", "device_array_like", "pinned_array", "pinned_array_like", "mapped_array", "managed_array"):
        original = getattr(devicearray, name, None)
        if original is None:
            continue
        poisoning = _poisoning(original)
        for module in (devicearray, sim_api, numba.cuda):  # every name a kernel's caller may use
            if getattr(module, name, None) is original:
                patch(module, name, poisoning)
    return saved


class _StrictThread(blocks.SimThread):
    """A simulated thread that tells the race detector who it is and which barrier phase it is in."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        block, thread = tuple(self.blockIdx), tuple(self.threadIdx)
        self._race_id = (_dims(block), _dims(thread))
        self._race_block = block
        self._race_epoch = 0
        self._race_warp = self.thread_id // warps.WARP
        self._race_warp_epoch = 0
        self._race_atomic = False

    def syncthreads(self) -> None:
        super().syncthreads()
        self._race_epoch += 1  # accesses after the barrier are ordered after every one before it


def _on_current_thread(name: str) -> Any:
    def method(self, *args):
        return getattr(blocks.current(), name)(*args)

    method.__name__ = name
    return method


def _dims(d: tuple[int, ...]) -> int | tuple[int, ...]:
    """(5, 0, 0) reads as 5, (3, 2, 0) as (3, 2): how the kernel's author wrote the launch."""
    if d[1:] == (0, 0):
        return d[0]
    return d[:2] if d[2] == 0 else d


def _atomic(method: Any) -> Any:
    def atomic(self, *args, **kwargs):
        t = blocks.current()
        if t is None:
            return method(self, *args, **kwargs)
        t._race_atomic = True
        try:
            return method(self, *args, **kwargs)
        finally:
            t._race_atomic = False
            blocks.pause()  # a thread spinning on an atomic (a lock) lets the holder run

    atomic.__wrapped__ = method  # type: ignore[attr-defined]
    return atomic


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


CUPY_REFUSES = (
    "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy array "
    "explicitly. (On a GPU the tests hand your function CuPy arrays, which live in GPU memory; the CUDA "
    "simulator's stand-in refuses the same conversion, so code that passes here also runs there.)"
)
_HOST_VIEWS = frozenset({"__array__", "__array_interface__", "__array_struct__"})
_cupy_like_cls: type | None = None


def cupy_like(host: np.ndarray) -> Any:
    """What the tests hand a student's GPU function under the simulator: a device array that acts as
    the CuPy array a real GPU run passes (shape, dtype, indexing, `.get()`, kernel launches, and
    `cuda.to_device` returning it as it is), and refuses what CuPy refuses: `np.asarray(x)`,
    `np.array(x)` and `x.copy_to_host()`. Plain NumPy inputs let such code pass here and fail on the
    course's GPU machine."""
    return _cupy_like_class()(np.ascontiguousarray(host))


def _cupy_like_class() -> type:
    """Built once, when the strict simulator is installed (before any student code runs)."""
    global _cupy_like_cls
    if _cupy_like_cls is None:
        from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

        class SimulatedCupyArray(FakeCUDAArray):
            def __getattr__(self, name: str) -> Any:
                if name in _HOST_VIEWS:
                    raise AttributeError(name)
                return super().__getattr__(name)

            def __array__(self, *args: Any, **kwargs: Any) -> Any:
                raise TypeError(CUPY_REFUSES)

            def get(self, stream: Any = None) -> np.ndarray:
                return self._ary.copy()

            def copy_to_host(self, *args: Any, **kwargs: Any) -> Any:
                raise AttributeError(
                    "a CuPy array has no copy_to_host() (that is a numba device array's method): "
                    "use `.get()` to read it on the host"
                )

            def __repr__(self) -> str:
                return f"<simulated CuPy array shape={self._ary.shape} dtype={self._ary.dtype}>"

        _cupy_like_cls = SimulatedCupyArray
    return _cupy_like_cls


def is_cupy_like(array: Any) -> bool:
    return _cupy_like_cls is not None and isinstance(array, _cupy_like_cls)
