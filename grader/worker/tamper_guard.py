"""The worker's guard against code that rewires what a verdict depends on.

Before any student code runs, the plugin notes the identity of every object a verdict depends on
(clocks, NumPy's and pytest's comparison functions, builtins, every global of the grader's modules,
of the test modules and of the staff modules, the code objects of their functions, methods of their
classes, and the trace/profile hooks). After each test it looks again: a replaced object voids that
test, and the guard puts the original back so the tests after it run on an honest grader again.
The timing code also bound its clocks at import, so a patched clock never reaches a measurement.
A tamper finding is a field of the test's record (`TestRecord.tampered`), never read from its text.

Not covered: code that edits memory through `ctypes` or a C extension, and in-process inspection
of objects (a submission can read the hidden test module's globals while it runs; hidden tests
therefore compute expected values at run time from the staff reference and keep no secrets that
would help a wrong answer pass). The parent's side of integrity is `grader.run.fingerprints`.
"""

from __future__ import annotations

import sys
import threading
import types
from typing import Any, Callable, Iterable

_MISSING = object()

# Objects outside the grader's own modules that a verdict or a timing depends on.
WATCHED_ATTRIBUTES = {
    "time": ("perf_counter", "perf_counter_ns", "process_time", "process_time_ns", "monotonic", "monotonic_ns", "time"),
    "math": ("isclose", "isnan", "isinf", "isfinite"),
    "numpy": (
        "asarray",
        "array",
        "isclose",
        "allclose",
        "array_equal",
        "isnan",
        "argwhere",
        "issubdtype",
        "finfo",
        "errstate",
        "median",
    ),
    "numpy.testing": ("assert_allclose", "assert_array_equal", "assert_array_almost_equal", "assert_equal"),
    "pytest": ("approx", "raises", "fail", "skip"),
    "statistics": ("median",),
    "os": ("write", "_exit", "getpid"),
    "json": ("dumps",),
}


class TamperGuard:
    """Remembers objects by identity and reports which were replaced since."""

    def __init__(self) -> None:
        self._watch: list[tuple[str, Callable[[], Any], Callable[[Any], None], Any]] = []
        self._seen: set[int] = set()

    def _add(self, label: str, getter: Callable[[], Any], setter: Callable[[Any], None]) -> None:
        try:
            self._watch.append((label, getter, setter, getter()))
        except Exception:  # noqa: BLE001 - an attribute that cannot be read is not watched
            pass

    def watch_attribute(self, owner: Any, name: str, label: str) -> None:
        self._add(label, lambda: getattr(owner, name, _MISSING), lambda v: setattr(owner, name, v))

    def watch_namespace(self, label: str, namespace: dict[str, Any]) -> None:
        """Every entry of a module's namespace, what its functions run and its classes' methods."""

        def setter(name: str) -> Callable[[Any], None]:
            return lambda v: namespace.__setitem__(name, v)

        for name, value in list(namespace.items()):
            if name.startswith("__") and name not in ("__call__", "__eq__", "__init__"):
                continue
            self._add(f"{label}.{name}", lambda ns=namespace, n=name: ns.get(n, _MISSING), setter(name))
            self._watch_function(f"{label}.{name}", value)
            if isinstance(value, type) and getattr(value, "__module__", "") == namespace.get("__name__"):
                if id(value) not in self._seen:
                    self._seen.add(id(value))
                    self.watch_class(f"{label}.{name}", value)

    def watch_class(self, label: str, cls: type) -> None:
        for name, value in list(vars(cls).items()):
            if name.startswith("__") and name not in ("__call__", "__eq__", "__init__"):
                continue
            get = lambda c=cls, n=name: vars(c).get(n, _MISSING)  # noqa: E731
            self._add(f"{label}.{name}", get, lambda v, c=cls, n=name: setattr(c, n, v))
            self._watch_function(f"{label}.{name}", value)

    def _watch_function(self, label: str, value: Any) -> None:
        fn = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
        if isinstance(fn, types.FunctionType):
            for attr in ("__code__", "__defaults__", "__kwdefaults__"):
                self._add(f"{label}.{attr}", lambda f=fn, a=attr: getattr(f, a), lambda v, f=fn, a=attr: setattr(f, a, v))

    def watch_module(self, module: types.ModuleType, label: str | None = None) -> None:
        name = label or module.__name__
        key = module.__name__
        self._add(f"sys.modules[{key!r}]", lambda: sys.modules.get(key, _MISSING), lambda v: sys.modules.__setitem__(key, v))
        self.watch_namespace(name, vars(module))

    def watch_defaults(self) -> None:
        """Clocks, comparison functions, builtins and the tracing hooks."""
        import builtins

        for module_name, names in WATCHED_ATTRIBUTES.items():
            module = sys.modules.get(module_name)
            if module is None:
                continue
            for name in names:
                self.watch_attribute(module, name, f"{module_name}.{name}")
        for name in dir(builtins):
            if not name.startswith("_"):
                self.watch_attribute(builtins, name, f"builtins.{name}")
        self._add("sys.gettrace()", sys.gettrace, sys.settrace)
        self._add("sys.getprofile()", sys.getprofile, sys.setprofile)
        if hasattr(threading, "gettrace"):
            self._add("threading.gettrace()", threading.gettrace, threading.settrace)

    def changes(self) -> list[str]:
        """Labels of watched objects that are no longer the same object."""
        out = []
        for label, getter, _setter, original in self._watch:
            try:
                now = getter()
            except Exception:  # noqa: BLE001 - reading it fails now: it was tampered with
                now = _MISSING
            if now is not original:
                out.append(label)
        return out

    def restore(self) -> list[str]:
        """Put every replaced object back; returns the labels that could not be restored."""
        stuck = []
        for label, getter, setter, original in self._watch:
            try:
                if getter() is not original:
                    setter(original)
            except Exception:  # noqa: BLE001
                stuck.append(label)
        return stuck

    def __len__(self) -> int:
        return len(self._watch)


def grader_modules() -> Iterable[types.ModuleType]:
    return [m for n, m in sorted(sys.modules.items()) if (n == "grader" or n.startswith("grader.")) and m is not None]
