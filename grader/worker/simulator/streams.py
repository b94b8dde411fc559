"""Streams that are really asynchronous, as far as the host can tell, in numba's CUDA simulator.

numba's simulator finishes every launch and copy before returning, so code that reads the results
of `copy_to_host(..., stream=s)` without `s.synchronize()` is right there and wrong on a GPU. Here
a device-to-host copy on a stream lands in the host array only when the program synchronizes:

- the copy takes the device data at once (stream order: it sees every launch queued before it)
  and fills the destination with poison (NaN, or the most negative integer) until then;
- it lands at `stream.synchronize()`, at the end of `with stream.auto_synchronize():`, at
  `cuda.synchronize()`, at an event's `synchronize()`/`wait()`, and at any operation on the legacy
  default stream (a plain `copy_to_host()`, `to_device()` or launch without a stream), which on a
  GPU waits for the work of every other blocking stream, as numba's `cuda.stream()` makes them;
- a copy never synchronized never lands: its results stay poison, as they would be undefined.

Kernel launches still run at once (their effects are only visible through copies, which wait).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable

import numpy as np

from .poison import poison_value

_lock = threading.Lock()


class _Pending:
    """Copies waiting on streams; one object, so the worker's tamper guard sees no module global change."""

    def __init__(self) -> None:
        self.by_stream: dict[int, tuple[Any, list[Callable[[], None]]]] = {}


_pending = _Pending()


def _poison_fill(ary: np.ndarray) -> None:

    if ary.dtype.fields is None:
        ary.fill(poison_value(ary.dtype))


def is_async(stream: Any) -> bool:
    """A stream made by `cuda.stream()`: not 0/None and not a default stream."""
    return stream not in (0, None) and not getattr(stream, "_parlab_default", False)


def enqueue(stream: Any, action: Callable[[], None]) -> None:
    with _lock:
        _pending.by_stream.setdefault(id(stream), (stream, []))[1].append(action)


def flush(stream: Any) -> None:
    with _lock:
        _, actions = _pending.by_stream.pop(id(stream), (None, []))
    for action in actions:
        action()


def flush_all() -> None:
    with _lock:
        queued = list(_pending.by_stream.values())
        _pending.by_stream.clear()
    for _, actions in queued:
        for action in actions:
            action()


def install(patch: Callable[[Any, str, Any], None], sim_api: Any, devicearray: Any, sim_kernel: Any) -> None:
    """Patch the simulator through ``patch(owner, name, new)`` (which records what to restore)."""
    import numba.cuda

    fake = devicearray.FakeCUDAArray
    copy_to_host = fake.copy_to_host

    def deferred_copy_to_host(self, ary=None, stream=0):
        if not is_async(stream):
            flush_all()
            return copy_to_host(self, ary, stream)
        staged = np.array(self._ary, copy=True)  # what the device holds now, in stream order
        if ary is None:
            ary = np.empty_like(self._ary)
        else:
            devicearray.check_array_compatibility(self, ary)
        target = ary
        _poison_fill(target)
        enqueue(stream, lambda: np.copyto(target, staged))
        return ary

    patch(fake, "copy_to_host", deferred_copy_to_host)

    stream_cls = sim_api.stream

    def synchronize(self):
        flush(self)

    @contextlib.contextmanager
    def auto_synchronize(self):
        try:
            yield self
        finally:
            flush(self)

    patch(stream_cls, "synchronize", synchronize)
    patch(stream_cls, "auto_synchronize", auto_synchronize)

    def default_stream():
        s = stream_cls()
        s._parlab_default = True
        return s

    def device_synchronize():
        flush_all()

    for name, new in (
        ("default_stream", default_stream),
        ("legacy_default_stream", default_stream),
        ("per_thread_default_stream", default_stream),
        ("synchronize", device_synchronize),
    ):
        original = getattr(sim_api, name)
        patch(sim_api, name, new)
        if getattr(numba.cuda, name, None) is original:
            patch(numba.cuda, name, new)

    event_cls = sim_api.Event
    patch(event_cls, "synchronize", lambda self: flush_all())
    patch(event_cls, "wait", lambda self, stream=0: flush_all())

    to_device = devicearray.to_device

    def synchronous_to_device(ary, stream=0, copy=True, to=None):
        if not is_async(stream):
            flush_all()
        return to_device(ary, stream, copy, to)

    for module in (devicearray, sim_api, numba.cuda):
        if getattr(module, "to_device", None) is to_device:
            patch(module, "to_device", synchronous_to_device)

    kernel_cls = sim_kernel.FakeCUDAKernel
    configure = kernel_cls.__getitem__

    def configure_with_stream(self, configuration):
        out = configure(self, configuration)
        self._parlab_stream = configuration[2] if len(configuration) > 2 else 0
        return out

    patch(kernel_cls, "__getitem__", configure_with_stream)


def before_launch(kernel: Any) -> None:
    """A launch on the legacy default stream waits for every other stream first."""
    if not is_async(getattr(kernel, "_parlab_stream", 0)):
        flush_all()
