"""numba's on-disk cache for `grader test`: a second run reuses the machine code of the first.

Every worker is a fresh process, so without a cache each run compiles the student's module, the
course's serial references and the calibration probes again (a `parallel=True` function takes a
second or more). numba caches only functions declared with ``cache=True`` and keys its cache on the
source file's path and modification time, and the worker runs a fresh copy of the student's module
in a new scratch folder every time. So the worker turns caching on itself, function by function
(`cache_functions`), and `ContentLocator` files each function's cache under a hash of its source
file's *contents*: a copy of an unchanged file hits, an edited file misses.

`grader test` uses it read-write (the parent sets `CACHE_ENV` and binds the folder into the
sandbox). A cache shared between *gradings* would let one submission plant machine code that
another grading loads (the course's serial baseline, say), so graded runs either compile afresh or,
in grade-all's speed phase, read a cache of course code only (`READ_ONLY_ENV`): the parent fills it
by grading the staff solution first, then binds it read-only into each submission's worker, which
caches the course's modules (serial references, solution, probes) from it and never the student's.
The locator is numba's documented hook, ``NUMBA_CACHE_LOCATOR_CLASSES``.

numba refuses to cache a function that calls ``numba.get_num_threads()`` ("uses dynamic globals":
its overload calls the threading layer through a ctypes pointer, an address of this process), and
most parallel code calls it to size per-thread buffers: a7's `sort_cpu` recompiled in every run.
`cacheable_thread_count` makes that call go through numba's own intrinsic, which names the same C
function by its symbol, as the parallel loops numba generates already do: same value, cacheable.
"""

from __future__ import annotations

import hashlib
import os
from types import ModuleType
from typing import Any

from numba.core.caching import _CacheLocator

from ..core.devices import NUMBA_CACHE_ENV as CACHE_ENV
from ..core.devices import NUMBA_CACHE_READ_ONLY_ENV as READ_ONLY_ENV


def _digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:24]


class ContentLocator(_CacheLocator):
    """A function's cache lives under the hash of its source file's bytes, wherever the file is."""

    def __init__(self, py_func: Any, digest: str, root: str, py_file: str) -> None:
        self._py_file = py_file  # numba's warning that a function cannot be cached names this file
        self._digest = digest
        self._path = os.path.join(root, digest)
        self._lineno = py_func.__code__.co_firstlineno

    def get_cache_path(self) -> str:
        return self._path

    def get_source_stamp(self) -> str:
        return self._digest

    def get_disambiguator(self) -> str:
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> ContentLocator | None:
        root = os.environ.get(CACHE_ENV)
        if not root or not os.path.isfile(py_file):
            return None
        try:
            locator = cls(py_func, _digest(py_file), root, py_file)
            if read_only():
                return locator if os.path.isdir(locator.get_cache_path()) else None
            locator.ensure_cache_path()
        except OSError:
            return None  # an unwritable cache: compile as usual
        return locator


def enabled() -> bool:
    return bool(os.environ.get(CACHE_ENV))


def read_only() -> bool:
    """The cache holds the course's compiled code, bound read-only (grade-all): load from it, never save."""
    return enabled() and os.environ.get(READ_ONLY_ENV) == "1"


def cacheable_thread_count() -> None:
    """Have compiled code read the thread count by symbol (cacheable), not by a ctypes address.

    numba binds ``parallel._get_num_threads`` to the ctypes function when it starts its threads,
    so the swap waits for that: a Python callable stays for the interpreter, an overload for jitted code.
    """
    if not enabled():
        return
    from numba.extending import overload
    from numba.np.ufunc import parallel

    launch = parallel._launch_threads
    if getattr(launch, "parlab_cacheable", False):
        return

    def launch_then_swap() -> None:
        launch()
        by_address = parallel._get_num_threads
        if getattr(by_address, "parlab_cacheable", False):
            return

        def by_symbol() -> int:
            return by_address()

        by_symbol.parlab_cacheable = True  # type: ignore[attr-defined]
        overload(by_symbol)(lambda: lambda: parallel._iget_num_threads())
        parallel._get_num_threads = by_symbol

    launch_then_swap.parlab_cacheable = True  # type: ignore[attr-defined]
    parallel._launch_threads = launch_then_swap


def cache_functions(module: ModuleType, course: bool = True) -> int:
    """Turn on numba's cache for every CPU-compiled function of ``module``. Returns how many.

    A read-only cache serves course code alone (``course``): a student's function compiles afresh.
    What it lacks (another signature, another CPU) is compiled as usual and not saved."""
    if not enabled() or (read_only() and not course):
        return 0
    from numba.core.registry import CPUDispatcher

    count = 0
    for value in list(vars(module).values()):
        if isinstance(value, CPUDispatcher) and getattr(value, "__module__", None) == module.__name__:
            try:
                value.enable_caching()
                if read_only():
                    _never_save(value._cache)
                count += 1
            except RuntimeError:  # no locator for its file: it compiles as usual
                continue
    return count


def _never_save(cache: Any) -> None:
    """numba saves whatever it compiled on a miss and raises when the folder is read-only."""
    save = cache.save_overload

    def save_if_possible(sig: Any, data: Any) -> None:
        try:
            save(sig, data)
        except OSError:
            pass  # a read-only course cache: this compile serves this grading alone

    cache.save_overload = save_if_possible
