"""`grader test` reuses numba's machine code between runs; graded runs share no cache a submission can write."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.devices import NUMBA_CACHE_ENV, NUMBA_CACHE_LOCATOR

from ..conftest import ROOT

BIN = Path(sys.executable).parent


def _run(command: str, submission: Path, cache: Path) -> None:
    done = subprocess.run(
        [str(BIN / "grader"), command, "a1", "--submission", str(submission), "-s", "fourier.cpu.correctness"],
        capture_output=True, text=True, timeout=300, env={**os.environ, NUMBA_CACHE_ENV: str(cache)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def _files(cache: Path) -> dict[str, float]:
    return {str(p.relative_to(cache)): p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}


def test_a_second_grader_test_loads_what_the_first_compiled(tmp_path):
    sub, cache = tmp_path / "sub", tmp_path / "cache"
    sub.mkdir()
    shutil.copyfile(ROOT / "solutions" / "a1_speedup" / "speedup.py", sub / "speedup.py")
    _run("test", sub, cache)
    first = _files(cache)
    assert any("fourier_cpu" in name and name.endswith(".nbi") for name in first), first
    _run("test", sub, cache)
    assert _files(cache) == first  # every function came from the cache: nothing compiled, nothing written
    (sub / "speedup.py").write_text((sub / "speedup.py").read_text() + "\n# edited\n")
    _run("test", sub, cache)
    assert len(_files(cache)) > len(first)  # an edited module is compiled afresh, under its new contents


def test_a_graded_run_writes_no_shared_cache(tmp_path):
    cache = tmp_path / "cache"
    _run("grade", ROOT / "solutions" / "a1_speedup", cache)
    assert not cache.exists() or not _files(cache)


UNCACHABLE = """
from numba import get_num_threads, njit, prange

@njit(parallel=True)
def f(n):
    total = 0
    for i in prange(get_num_threads()):  # numba cannot cache this (\\"dynamic globals\\"): it warns
        total += i
    return total + n
"""


def test_a_function_numba_cannot_cache_still_runs(tmp_path):
    """numba warns when it cannot cache a function (a prange sized by get_num_threads(), as a2's and
    a7's references do) and names the locator's source file in the warning: that must not fail."""
    (tmp_path / "uncachable.py").write_text(UNCACHABLE)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import uncachable\n"
        "from grader.worker.numba_cache import cache_functions\n"
        "assert cache_functions(uncachable) == 1\n"
        "print(uncachable.f(1))\n"
    )
    env = {**os.environ, NUMBA_CACHE_ENV: str(tmp_path / "cache"), "NUMBA_CACHE_LOCATOR_CLASSES": NUMBA_CACHE_LOCATOR}
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1].isdigit()


THREAD_COUNT = """
import numpy as np
from numba import get_num_threads, njit, prange

@njit(parallel=True)
def per_thread(n):
    out = np.zeros(get_num_threads(), dtype=np.int64)  # per-thread partials: the usual reason to ask
    for t in prange(out.size):
        out[t] = n
    return out.size
"""


def test_code_that_asks_for_the_thread_count_is_cached_and_sees_the_count(tmp_path):
    """Most parallel solutions size per-thread buffers by get_num_threads(); numba alone would recompile
    them in every run. With the worker's swap they come from the cache, and still read the live count."""
    (tmp_path / "threads.py").write_text(THREAD_COUNT)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import numba, threads\n"
        "from grader.worker.numba_cache import cache_functions, cacheable_thread_count\n"
        "cacheable_thread_count(); cache_functions(threads)\n"
        "numba.set_num_threads(1); one = threads.per_thread(3)\n"
        "numba.set_num_threads(2); two = threads.per_thread(3)\n"
        "print(one, two, sum(threads.per_thread.stats.cache_hits.values()))\n"
    )
    env = {**os.environ, NUMBA_CACHE_ENV: str(tmp_path / "cache"), "NUMBA_CACHE_LOCATOR_CLASSES": NUMBA_CACHE_LOCATOR,
           "NUMBA_NUM_THREADS": "2"}  # fmt: skip
    runs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300, env=env)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "cannot cache" not in done.stderr, done.stderr[-2000:]
        runs.append(done.stdout.split())
    assert runs[0] == ["1", "2", "0"]  # compiled, and the count followed set_num_threads
    assert runs[1] == ["1", "2", "1"]  # loaded from the cache, and still follows it


PLANTER = """
_mounts = [line.split()[4] for line in open("/proc/self/mountinfo") if "numba" in line.split()[4]]
for _folder in _mounts or ["/no-cache-here"]:
    try:
        open(_folder + "/planted.nbi", "w").write("machine code for the next grading")
        _outcome = "wrote " + _folder
    except OSError as exc:
        _outcome = f"refused {_folder}: {exc}"
raise RuntimeError(_outcome)
"""


def test_grade_all_course_cache_is_read_only_and_only_where_the_solution_is(tmp_path):
    """grade-all compiles the course's code once (the staff solution's speed lines) and binds the cache
    read-only into each submission's speed worker: a submission can neither plant code in it nor, in
    a correctness worker (which never receives the solution), see it."""
    from grader.core.course import Course
    from grader.core.results import Status
    from grader.run.grade import CourseCache, _graded_cache_folder, fill_course_cache, grade_submission
    from grader.run.isolation import detect

    if not detect().full:
        pytest.skip(f"needs full isolation (a read-only bind): {detect().why}")
    a1 = Course(ROOT).resolve("a1")
    cache = fill_course_cache(a1, tmp_path / "numba", "none")
    assert cache is not None and not cache.fill
    compiled = _files(cache.folder)
    for name in ("calibration._compute_serial", "speedup.fourier_serial", "speedup.fourier_cpu"):
        assert any(name in f and f.endswith(".nbi") for f in compiled), (name, sorted(compiled))
    # The staff solution graded as the submission fills it: its module loads as the solution's, not the student's
    machine_code = b"".join(p.read_bytes() for p in cache.folder.rglob("*.nbc"))
    assert b"parlab_solution_speedup" in machine_code and b"parlab_submission_speedup" not in machine_code
    # The fill only compiles: one round, and the line pending, never a grade.
    fill = grade_submission(
        a1, a1.solution_dir, hidden=True, gpu="none", select=["fourier.cpu.performance"],
        course_cache=CourseCache(_graded_cache_folder(tmp_path / "again"), fill=True),
    )  # fmt: skip
    assert {(t.status, t.metrics.get("rounds")) for t in fill.tests} == {(Status.deferred, 1)}, fill.tests
    assert all(t.message.startswith("not timed: compiled once for the class's course cache") for t in fill.tests)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "speedup.py").write_text((ROOT / "solutions" / "a1_speedup" / "speedup.py").read_text() + PLANTER)
    report = grade_submission(a1, sub, hidden=True, gpu="none", select=["fourier.cpu.performance", "amdahl"], course_cache=cache)
    messages = {f"{t.task}.{t.kind}": t.message for t in report.tests}
    assert "refused" in messages["fourier.performance"] and "Read-only file system" in messages["fourier.performance"], messages
    assert "refused /no-cache-here" in messages["amdahl.correctness"], messages
    assert _files(cache.folder) == compiled


def test_grade_all_student_cache_carries_a_submissions_own_code_from_correctness_to_speed(tmp_path):
    """The student's compiled module goes from its correctness worker to its speed worker through a
    folder of its own: the speed worker compiles nothing again, the folder holds the student's module
    alone (never course code), and no other submission's worker can see it."""
    import hashlib

    from grader.core.course import Course
    from grader.run.grade import fill_course_cache, grade_submission, student_cache_folder
    from grader.run.isolation import detect

    if not detect().full:
        pytest.skip(f"needs full isolation (each worker sees its own folder alone): {detect().why}")
    a1 = Course(ROOT).resolve("a1")
    course = fill_course_cache(a1, tmp_path / "numba", "none")
    root = tmp_path / "submissions"
    alice, bob = student_cache_folder(root, "alice"), student_cache_folder(root, "bob")
    assert alice is not None and bob is not None and alice != bob
    sub = tmp_path / "alice"
    sub.mkdir()
    shutil.copyfile(ROOT / "solutions" / "a1_speedup" / "speedup.py", sub / "speedup.py")
    grade_submission(a1, sub, hidden=True, gpu="none", select=["*.*.correctness"], student_cache=alice)
    compiled = _files(alice)
    digest = hashlib.sha256((sub / "speedup.py").read_bytes()).hexdigest()[:24]
    assert any("fourier_cpu" in f and f.endswith(".nbi") for f in compiled), compiled
    assert all(f.startswith(digest + "/") for f in compiled), compiled  # the student's module and nothing else
    speed = ["fourier.cpu.performance"]
    report = grade_submission(a1, sub, hidden=True, gpu="none", select=speed, course_cache=course, student_cache=alice)
    assert [t.status.value for t in report.tests if t.kind == "performance"] == ["passed"], report.tests
    assert _files(alice) == compiled  # loaded: a compile would have saved a new entry, as here:
    empty = student_cache_folder(root, "carol")
    grade_submission(a1, sub, hidden=True, gpu="none", select=speed, course_cache=course, student_cache=empty)
    assert any("fourier_cpu" in f for f in _files(empty)), _files(empty)

    mallory = tmp_path / "mallory"
    mallory.mkdir()
    snoop = PLANTER.replace("_mounts or", f"[{str(bob)!r}] or")  # another submission's folder, by its path
    (mallory / "speedup.py").write_text((ROOT / "solutions" / "a1_speedup" / "speedup.py").read_text() + snoop)
    mine = student_cache_folder(root, "mallory")
    report = grade_submission(a1, mallory, hidden=True, gpu="none", select=["amdahl"], student_cache=mine)
    assert all(f"refused {bob}" in t.message for t in report.tests), [t.message for t in report.tests]
    assert not _files(bob)
