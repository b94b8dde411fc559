"""Races in numba ``prange`` loops, found the same way in every run: by an access log, not by luck.

A racy prange loop loses updates only while its threads really run at the same time. On a busy
machine (a CI runner, a class graded two at a time, a notebook kernel next to other work) they can
take turns for seconds, and a timed contention test then passes racy code. This module runs the
function's own Python source (``py_func``) instead, with each parallel loop's iterations dealt out
to `SIM_THREADS` simulated threads in contiguous chunks, as numba's static schedule deals them, and
logs which thread reads and writes every element of the arrays that outlive an iteration (the
arguments and the arrays allocated before the loop). At the end of each loop it looks for an
element two threads conflict on:

- one thread reads it and another writes it a new value (a lost update, or one thread reading
  another's scratch data), or
- two threads leave different values in it (the result depends on which one wrote last).

What numba makes safe is not reported: scalar reductions (locals are not logged), whole-array
reductions (``counts += mine`` on an array allocated before the loop), arrays allocated inside an
iteration, rows picked by ``numba.get_thread_id()`` (it returns the simulated thread), and loops of
a function compiled without ``parallel=True`` (they run serially).

The verdict is one-sided: a conflict is reported only when the log shows one. Code the trace cannot
follow (it raises under plain Python, or hides its accesses in compiled code it cannot unwrap)
gives no verdict, and the timed contention tests remain the judge of it.
"""

from __future__ import annotations

import linecache
import sys
import time
import types
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

SIM_THREADS = 4  # simulated threads a parallel loop's iterations are dealt to
# Plain Python is ~100x slower than numba: a trace taking longer gives no verdict (small inputs trace in 0.01-0.05 s).
TRACE_BUDGET_S = 5.0
_clock = time.monotonic  # bound before any student code runs

# numpy functions that look at an array's shape or make a view of it, never at its elements
_NO_DATA = frozenset(
    getattr(np, name)
    for name in (
        "shape",
        "ndim",
        "size",
        "reshape",
        "transpose",
        "swapaxes",
        "moveaxis",
        "expand_dims",
        "squeeze",
        "atleast_1d",
        "atleast_2d",
        "atleast_3d",
        "broadcast_to",
        "broadcast_arrays",
        "empty_like",
        "zeros_like",
        "ones_like",
        "full_like",
        "result_type",
        "may_share_memory",
        "shares_memory",
        "ravel",
    )
    if hasattr(np, name)
)
_WRITE_FIRST = frozenset(getattr(np, name) for name in ("copyto", "put", "place", "putmask", "fill_diagonal"))
_ALLOCATORS = ("zeros", "empty", "ones", "full", "zeros_like", "empty_like", "ones_like", "full_like", "copy", "array")


class TraceTooSlow(BaseException):
    """Raised into the traced code when it runs out of time (a BaseException: `except Exception` in
    the student's code does not swallow it)."""


@dataclass
class Conflict:
    """Two simulated threads touching one element of a shared array in a way that races."""

    element: str  # in the student's words: "values[3]", or "element [2, 5] of the array allocated at line 8 (...)"
    kind: str  # "update" (read + a new value from another thread) or "write" (two different final values)
    threads: tuple[int, int]
    iterations: tuple[int, int]
    loop: str  # where the prange loop is: "line 9 (`for i in prange(n):`)"

    def describe(self, function: str) -> str:
        (a, b), (i, j) = self.threads, self.iterations
        if self.kind == "update":
            what = (
                f"thread {a} (iteration {i}) reads {self.element} while thread {b} (iteration {j}) "
                "writes it: updates are lost, or one thread reads the other's data, whenever they overlap"
            )
        else:
            what = (
                f"threads {a} and {b} (iterations {i} and {j}) both write {self.element}, different "
                "values: which one stays depends on timing"
            )
        return (
            f"{function}: the prange loop at {self.loop} races: {what}. Iterations of a prange loop must not "
            "share elements they write; give each thread or chunk its own (allocated inside the loop, or one row "
            "per thread) and combine them after the loop, or accumulate into a scalar numba can reduce"
        )


@dataclass
class _Cell:
    initial: Any
    readers: dict[int, int] = field(default_factory=dict)  # thread -> first iteration that read
    writers: dict[int, tuple[int, Any]] = field(default_factory=dict)  # thread -> (iteration, last value)
    changers: dict[int, int] = field(default_factory=dict)  # thread -> first iteration that wrote a new value


class _State:
    """Which simulated thread runs now (None outside a traced parallel loop) and the current loop's log."""

    def __init__(self) -> None:
        self.active = False
        self.thread: int | None = None
        self.iteration = 0
        self.log: dict[int, _Cell] = {}
        self.roots: list[tuple[int, int, np.ndarray, str | None, str]] = []  # (start, end, root, name, where made)
        self.conflict: Conflict | None = None
        self.loops = 0  # parallel loops dealt to simulated threads so far
        self.deadline = float("inf")

    def element(self, address: int) -> str:
        """An element by address, named as the student would: ``counts[3] (allocated at line 8)``."""
        for start, end, root, name, where in self.roots:
            if start <= address < end:
                flat = (address - start) // root.itemsize
                index = np.unravel_index(flat, root.shape) if root.ndim else ()
                at = "[" + ", ".join(str(int(k)) for k in index) + "]"
                if name is None:
                    return f"element {at} of the array allocated at {where}"
                if not name.isidentifier():  # an argument past the named ones
                    return f"element {at} of {name}"
                return f"{name}{at}" + (f" (allocated at {where})" if where else "")
        return "an element of a shared array"


_STATE = _State()


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) or (a != a and b != b)
    except Exception:  # noqa: BLE001 - an element that will not compare is taken as changed
        return False


def _addresses(a: np.ndarray) -> np.ndarray:
    """The memory address of every element of ``a`` (a view of any shape and strides)."""
    out = np.full(a.shape, a.__array_interface__["data"][0], dtype=np.int64)
    for axis, (n, stride) in enumerate(zip(a.shape, a.strides, strict=True)):
        shape = [1] * a.ndim
        shape[axis] = n
        out += (np.arange(n, dtype=np.int64) * stride).reshape(shape)
    return out


def _element_address(a: np.ndarray, index: Any) -> int:
    key = index if isinstance(index, tuple) else (index,)
    return np.ndarray.__getitem__(a, (*key, Ellipsis)).__array_interface__["data"][0]


_UNSET = object()  # a cell's value before the loop, until a write tells it


def _read(address: int) -> None:
    cell = _STATE.log.get(address)
    if cell is None:
        cell = _STATE.log[address] = _Cell(initial=_UNSET)
    cell.readers.setdefault(_STATE.thread, _STATE.iteration)  # type: ignore[arg-type]


def _write(address: int, old: Any, new: Any) -> None:
    cell = _STATE.log.get(address)
    if cell is None:
        cell = _STATE.log[address] = _Cell(initial=old)
    elif cell.initial is _UNSET:
        cell.initial = old
    thread = _STATE.thread
    first = cell.writers.get(thread, (_STATE.iteration, None))[0]  # type: ignore[arg-type]
    cell.writers[thread] = (first, new)  # type: ignore[index]
    if not _same(new, cell.initial):
        cell.changers.setdefault(thread, _STATE.iteration)  # type: ignore[arg-type]


def _read_all(a: Any) -> None:
    if isinstance(a, Shared) and a._tracked:
        for address in _addresses(a.view(np.ndarray)).ravel().tolist():
            _read(address)


class Shared(np.ndarray):
    """A view of an array shared by a traced loop's iterations: element reads and writes made while a
    simulated thread runs are logged by address, so views and reshapes of it are logged as well."""

    _tracked = False  # a view of an array the trace shares (a copy is private: not tracked)
    _root = False

    def __array_finalize__(self, obj: Any) -> None:
        self._tracked = not self.flags.owndata and getattr(obj, "_tracked", False)
        self._root = False

    def __getitem__(self, index: Any) -> Any:
        out = super().__getitem__(index)
        if not self._tracked or _STATE.thread is None:
            return out
        if isinstance(out, np.ndarray):
            if out.flags.owndata:  # fancy indexing: a copy, read now
                for address in np.asarray(_addresses(self.view(np.ndarray))[index]).ravel().tolist():
                    _read(address)
            return out
        _read(_element_address(self, index))
        return out

    def __setitem__(self, index: Any, value: Any) -> None:
        if not self._tracked or _STATE.thread is None:
            super().__setitem__(index, value)
            return
        _read_all(value)
        plain = self.view(np.ndarray)
        target = plain[index]
        if not isinstance(target, np.ndarray):
            address = _element_address(plain, index)
            super().__setitem__(index, value)
            _write(address, target, plain[index])
            return
        addresses = np.asarray(_addresses(plain)[index]).ravel().tolist()
        old = np.array(target, copy=True).ravel().tolist()
        super().__setitem__(index, value)
        new = np.asarray(plain[index]).ravel().tolist()
        for address, before, after in zip(addresses, old, new, strict=True):
            _write(address, before, after)

    def fill(self, value: Any) -> None:
        self[...] = value

    def copy(self, order: str = "C") -> np.ndarray:  # type: ignore[override]
        if _STATE.thread is not None:
            _read_all(self)
        return _new_array(np.array(self.view(np.ndarray), order=order, copy=True))  # ``fill = starts[:-1].copy()``

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> np.ndarray:  # type: ignore[override]
        if _STATE.thread is not None:
            _read_all(self)
        out = self.view(np.ndarray).astype(dtype, *args, **kwargs)
        if not out.flags.owndata:  # copy=False and nothing to convert: a view, tracked as views are
            return super().astype(dtype, *args, **kwargs)
        return _new_array(out)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, out: Any = None, **kwargs: Any) -> Any:
        outs = out if isinstance(out, tuple) else (() if out is None else (out,))
        plain = tuple(x.view(np.ndarray) if isinstance(x, Shared) else x for x in inputs)
        plain_outs = tuple(o.view(np.ndarray) if isinstance(o, Shared) else o for o in outs)
        logged = _STATE.thread is not None and not _is_array_reduction(method, inputs, outs)
        written = []  # (output, its element addresses, their values before)
        if logged:
            for x in inputs:
                _read_all(x)
            for o, p in zip(outs, plain_outs, strict=True):
                if isinstance(o, Shared) and o._tracked:
                    written.append((p, _addresses(p).ravel().tolist(), p.ravel().tolist()))
        if plain_outs:
            kwargs["out"] = plain_outs
        result = getattr(ufunc, method)(*plain, **kwargs)
        for p, addresses, old in written:
            for address, before, after in zip(addresses, old, p.ravel().tolist(), strict=True):
                _write(address, before, after)
        if outs:
            return outs[0] if len(outs) == 1 else outs
        return result

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if _STATE.thread is not None and func not in _NO_DATA:
            skip = args[0] if func in _WRITE_FIRST and args else None
            for a in _flatten((args, kwargs)):
                if a is not skip and a is not kwargs.get("out"):
                    _read_all(a)
        return super().__array_function__(func, types, args, kwargs)


def _is_array_reduction(method: str, inputs: tuple, outs: tuple) -> bool:
    """``counts += mine`` on a whole array allocated before the loop: numba privatizes it per thread."""
    return (
        method == "__call__"
        and len(outs) == 1
        and len(inputs) >= 1
        and inputs[0] is outs[0]
        and isinstance(outs[0], Shared)
        and outs[0]._root
    )


def _flatten(value: Any):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _flatten(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _flatten(v)
    else:
        yield value


def _share(array: np.ndarray, name: str | None, where: str = "") -> Shared:
    """``array`` shared by the loops to come; ``name`` and ``where`` (it was made) name it in messages."""
    view = array.view(Shared)
    view._tracked, view._root = True, True
    start = array.__array_interface__["data"][0]
    _STATE.roots.append((start, start + max(array.nbytes, 1), array, name, where))
    return view


def _where(depth: int) -> str:
    """The student's line by number only: quoting its text could repeat a line of the course's own
    code, which every report withholds (grader/run/leaks.py), and the student has the file."""
    return f"line {sys._getframe(depth).f_lineno}"


def _assigned_name(depth: int) -> str | None:
    """``counts`` for a line ``counts = np.zeros(...)``: how the student calls the array."""
    frame = sys._getframe(depth)
    text = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    head = text.split("=", 1)[0].strip() if "=" in text and not text.startswith(("if ", "while ", "return ")) else ""
    return head if head.isidentifier() else None


def _new_array(out: Any) -> Any:
    """An array the traced code just made (``np.zeros``, ``.copy()``): shared by the loops to come when
    made outside them, private to its iteration when made inside one. Named by its caller's line."""
    if _STATE.active and _STATE.thread is None and isinstance(out, np.ndarray):
        return _share(out, _assigned_name(3), _where(3))
    return out


def _allocator(real: Callable) -> Callable:
    def allocate(*args: Any, **kwargs: Any) -> Any:
        return _new_array(real(*args, **kwargs))

    return allocate


def _deal(iterations: range, loop: str):
    """A parallel loop's iterations, thread by thread, each thread a contiguous chunk (numba's static schedule)."""
    _STATE.log = {}
    _STATE.loops += 1
    n = len(iterations)
    try:
        for thread in range(SIM_THREADS):
            for position in range(thread * n // SIM_THREADS, (thread + 1) * n // SIM_THREADS):
                if _clock() > _STATE.deadline:
                    raise TraceTooSlow(f"the trace took longer than {TRACE_BUDGET_S:g} s")
                _STATE.thread, _STATE.iteration = thread, iterations[position]
                yield iterations[position]
    finally:
        _STATE.thread = None
        if _STATE.conflict is None:
            _STATE.conflict = _first_conflict(loop)
        _STATE.log = {}


def _first_conflict(loop: str) -> Conflict | None:
    for address, cell in _STATE.log.items():
        for b, j in cell.changers.items():
            for a, i in cell.readers.items():
                if a != b:
                    return _conflict(address, "update", (a, b), (i, j), loop)
        writers = iter(cell.writers.items())
        for a, (i, first_value) in writers:  # the first writer; any other that left another value conflicts
            for b, (j, value) in writers:
                if not _same(value, first_value):
                    return _conflict(address, "write", (a, b), (i, j), loop)
    return None


def _conflict(address: int, kind: str, threads: tuple[int, int], iterations: tuple[int, int], loop: str) -> Conflict:
    return Conflict(_STATE.element(address), kind, threads, iterations, loop)


def _prange_for(parallel: bool) -> Callable:
    def prange(*args: Any) -> Any:
        iterations = range(*args)
        if not parallel or not _STATE.active or _STATE.thread is not None:
            return iterations  # serial: a function without parallel=True, or a loop inside a parallel one
        return _deal(iterations, _where(2))

    return prange


def _thread_id() -> int:
    return _STATE.thread or 0


def _num_threads() -> int:
    return SIM_THREADS


class _Module(types.ModuleType):
    """numpy or numba as the traced code sees them: the same but for a few names."""

    def __init__(self, real: types.ModuleType, overrides: dict[str, Any]) -> None:
        super().__init__(real.__name__)
        self._real, self._overrides = real, overrides

    def __getattr__(self, name: str) -> Any:
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._real, name)


class _Tracer:
    """Rebuilds a jitted function (and the jitted functions it calls) as plain Python over traced names."""

    def __init__(self) -> None:
        import numba

        self.numba = numba
        self.allocators = {id(getattr(np, n)): _allocator(getattr(np, n)) for n in _ALLOCATORS}
        self.memo: dict[int, Callable] = {}
        self.np_module = _Module(np, {n: self.allocators[id(getattr(np, n))] for n in _ALLOCATORS})
        # numba's names the traced code sees, for a function with and without parallel=True
        self.numba_names = {
            parallel: {
                "prange": _prange_for(parallel),
                "get_thread_id": _thread_id,
                "get_num_threads": _num_threads,
                "set_num_threads": lambda n: None,
            }
            for parallel in (False, True)
        }
        self.numba_modules = {parallel: _Module(numba, names) for parallel, names in self.numba_names.items()}

    def function(self, fn: Callable) -> Callable | None:
        if id(fn) in self.memo:
            return self.memo[id(fn)]
        py = getattr(fn, "py_func", fn)
        if not isinstance(py, types.FunctionType):
            return None
        options = getattr(fn, "targetoptions", {}) or {}
        parallel = options.get("parallel", False)
        if isinstance(parallel, dict):
            parallel = parallel.get("prange", True)
        names: dict[str, Any] = dict(py.__globals__)
        traced = types.FunctionType(py.__code__, names, py.__name__, py.__defaults__, py.__closure__)
        traced.__kwdefaults__ = py.__kwdefaults__
        self.memo[id(fn)] = traced
        for name, value in list(names.items()):
            names[name] = self.substitute(value, bool(parallel))
        return traced

    def substitute(self, value: Any, parallel: bool) -> Any:
        numba = self.numba
        if value is np:
            return self.np_module
        if value is numba:
            return self.numba_modules[parallel]
        for name, replacement in self.numba_names[parallel].items():  # `from numba import prange`, ...
            if value is getattr(numba, name):
                return replacement
        if id(value) in self.allocators:
            return self.allocators[id(value)]
        if isinstance(value, numba.core.dispatcher.Dispatcher):
            return self.function(value) or value
        return value


@dataclass
class Verdict:
    """What the trace saw: a conflict, none (``conflict is None``, ``error`` empty), or no verdict (``error``)."""

    conflict: Conflict | None = None
    error: str = ""
    result: Any = None
    loops: int = 0  # parallel loops it traced

    @property
    def followed(self) -> bool:
        """The function ran to its end under the trace and at least one parallel loop was traced: the
        trace, not luck, judged its loops. (Zero loops: its parallel work ran where the trace cannot
        see, compiled code reached some other way, or it has none.)"""
        return not self.error and self.loops > 0


def trace(fn: Callable, *args: Any, names: tuple[str, ...] = ()) -> Verdict:
    """Run ``fn(*args)`` as plain Python with its parallel loops traced (arrays among ``args`` are
    copied and shared; ``names`` label them in messages, default: the function's parameter names)."""
    if _STATE.active:
        return Verdict(error="a trace is already running")
    try:
        traced = _Tracer().function(fn)
    except Exception as exc:  # noqa: BLE001 - an object the tracer cannot rebuild gives no verdict
        return Verdict(error=f"cannot trace {getattr(fn, '__name__', fn)!r}: {type(exc).__name__}: {exc}")
    if traced is None:
        return Verdict(error=f"{getattr(fn, '__name__', fn)!r} is not a Python or numba function")
    labels = names or traced.__code__.co_varnames[: traced.__code__.co_argcount]
    _STATE.__init__()
    _STATE.active = True
    _STATE.deadline = _clock() + TRACE_BUDGET_S
    try:
        shared = [
            _share(np.array(a, copy=True), labels[k] if k < len(labels) else f"argument {k + 1}")
            if isinstance(a, np.ndarray)
            else a
            for k, a in enumerate(args)
        ]
        try:
            result = traced(*shared)
        except (Exception, TraceTooSlow) as exc:  # noqa: BLE001 - code the trace cannot follow gives no verdict
            return Verdict(conflict=_STATE.conflict, error=f"{type(exc).__name__}: {exc}", loops=_STATE.loops)
        if isinstance(result, Shared):
            result = result.view(np.ndarray)
        return Verdict(conflict=_STATE.conflict, result=result, loops=_STATE.loops)
    finally:
        _STATE.__init__()
