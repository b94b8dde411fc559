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
in grade-all's speed phase, read a cache of course code only (`COURSE_ENV`): the parent fills it
by grading the staff solution first, then binds it read-only into each submission's worker, which
caches the course's modules (serial references, solution, probes) from it and never the student's.
The student's own module has a folder of its own there (`STUDENT_ENV`): one per submission, written
by that submission's correctness worker and read by its speed worker, so the speed phase loads the
student's compiled code instead of compiling it again (~1.3 s for a `parallel=True` function). Only
functions of the student's module file look there: whatever a submission leaves in its folder is
loaded, if at all, as its own code, by its own grading. The course's functions never look there.
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

from ..core.devices import NUMBA_CACHE_COURSE_ENV as COURSE_ENV
from ..core.devices import NUMBA_CACHE_ENV as CACHE_ENV
from ..core.devices import STUDENT_NUMBA_CACHE_ENV as STUDENT_ENV

_student_files: set[str] = set()  # source files whose functions cache under STUDENT_ENV (`cache_functions`)


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
        student = os.path.realpath(py_file) in _student_files
        root = os.environ.get(STUDENT_ENV if student else CACHE_ENV)
        if not root or not os.path.isfile(py_file):
            return None
        try:
            locator = cls(py_func, _digest(py_file), root, py_file)
            if read_only() and not student:
                return locator if os.path.isdir(locator.get_cache_path()) else None
            locator.ensure_cache_path()
        except OSError:
            return None  # an unwritable cache: compile as usual
        return locator


def enabled() -> bool:
    return bool(os.environ.get(CACHE_ENV) or os.environ.get(STUDENT_ENV))


def course_only() -> bool:
    """The cache is grade-all's, of the course's code alone: the student's module never goes in it."""
    return bool(os.environ.get(CACHE_ENV)) and os.environ.get(COURSE_ENV) in ("fill", "read")


def read_only() -> bool:
    """The course's cache, bound read-only (grade-all's speed workers): load from it, never save."""
    return course_only() and os.environ.get(COURSE_ENV) == "read"


def filling() -> bool:
    """This worker fills the course's cache (grade-all grades the staff solution once to compile it)."""
    return course_only() and os.environ.get(COURSE_ENV) == "fill"


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

    grade-all's cache serves course code alone (``course``): a student's function compiles afresh,
    or caches in the submission's own folder where the grader gives one (`STUDENT_ENV`). What the
    cache lacks (another signature, another CPU) is compiled as usual and saved where it can be."""
    if course and not os.environ.get(CACHE_ENV):
        return 0
    if not course:
        if os.environ.get(STUDENT_ENV) and getattr(module, "__file__", None):
            _student_files.add(os.path.realpath(module.__file__))
        elif course_only() or not os.environ.get(CACHE_ENV):
            return 0
    from numba.core.registry import CPUDispatcher

    count = 0
    for value in list(vars(module).values()):
        if isinstance(value, CPUDispatcher) and getattr(value, "__module__", None) == module.__name__:
            try:
                value.enable_caching()
                _save_if_possible(value._cache)
                count += 1
            except RuntimeError:  # no locator for its file: it compiles as usual
                continue
    return count


def _save_if_possible(cache: Any) -> None:
    """numba saves whatever it compiled on a miss and raises when the folder is read-only (the
    course's, in grade-all's speed workers): then the compile serves this grading alone."""
    save = cache.save_overload

    def save_if_possible(sig: Any, data: Any) -> None:
        try:
            save(sig, data)
        except OSError:
            pass  # a read-only cache

    cache.save_overload = save_if_possible
