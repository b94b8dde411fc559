"""Speedup measurement that stays honest on a busy machine.

One measurement = rounds of timed calls, in an order that alternates from round to round:
the staff serial baseline (B) and the student's candidate (C) on the same rotating input, the
same candidate confined to one core (C1, CPU parts: every thread of the process and of its child
processes pinned to one CPU, numba's prange on one thread), and the staff compute probe serial (Ks)
and parallel (Kp). Optionally the staff reference solution (R) on the same input (trusted grading)
and the bandwidth probe (memory-bound tasks).

- JIT compilation is excluded: every function is called once before any timing.
- Every candidate output of a timed run is checked: a fast wrong or cached answer earns nothing.
  Each round works on a fresh copy of one of the inputs with ~1 % of its elements redrawn at
  random, so no two timed calls ever see the same data: an output cache keyed on the input (its
  bytes, its address, a prefix of it) either misses or returns a wrong answer that the check catches.
- The compute probe is scaled to last about as long as the baseline: a 7 ms parallel region is
  thrown off by a vCPU descheduled for 2 ms, a 60 ms one is not, and capacity must be measured on
  the same footing as the candidate (per-round capacity of a 14 ms probe ranged 0.7-2.4 next to a
  120 ms baseline on a 2-core VM; a matched probe stayed within 1.1-2.1).
- The speedup graded is the part that comes from running in parallel: min(median C1/C, median B/C),
  the candidate's speedup over itself on one core, capped by its speedup over the staff baseline
  (code slower than the staff's serial loop earns no more than its real speedup). A serial
  program, however well tuned, runs as fast on one core: C1/C stays near 1. C1 is taken over the
  pin's own cost, K1/Ks: the serial probe timed on the same CPU (K1) against unpinned (Ks) in the
  same round. On a busy machine an unpinned serial program moves to whichever CPU is free and a
  pinned one cannot (a serial impostor measured C1/C of 1.17-1.26 at load 18); the ratio K1/Ks
  shows that cost and takes it out. Without C1 (GPU parts) the graded speedup is B/C. Each ratio
  is the median of its per-round values, and its interval a bootstrap interval of that median
  (the graded interval: the smaller bound of the two, each). The machine's capacity is the
  median of Ks/Kp over the same rounds: how much parallel speedup a perfectly parallel kernel
  gets *right now*.
- Rounds continue until the decision is clear (`decide` says so) or the time budget is spent; from
  EARLY_ROUNDS on, before the minimum, only when all rounds but one say the same on their own (`settled`).
- A round during which the VM's host (hypervisor) took the CPUs away is set aside, not counted:
  the kernel's "steal" count in /proc/stat over the round, against the round's CPU time
  (`STEAL_LIMIT`). On this course's 2-core VM in a heavy hour most rounds of the a1 reference lost
  10-40 % of their CPU time that way, and their B/C ranged 0.76-2.28x where the rounds the host
  left alone measured 1.65-2.02x (benchmarks/README.md, "Host steal"). Set-aside rounds are timed
  again and do not use up the time budget; too few undisturbed rounds within a second budget
  defer the line (`HOST_STEAL`).
- Guards against inflating the baseline: before the candidate has ever run, the baseline is timed
  against the serial probe; later baseline times are clamped to 1.25x what that ratio and the
  round's own probe time predict; the CPU time the process's other threads use during each
  baseline call is measured, so student threads still running (even ones that merely take turns
  with the baseline for the GIL) are caught.

Clocks are bound when this module is imported, before any student code is.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Iterator, Sequence

import numpy as np

_wall = time.perf_counter
_process_cpu = time.process_time
_thread_cpu = time.thread_time
_sleep = time.sleep
_native_id = threading.get_native_id
_os_open, _os_read, _os_close = os.open, os.read, os.close

MIN_ROUNDS = 16
EARLY_ROUNDS = 8  # from here a verdict all rounds but one give alone ends the measurement before MIN_ROUNDS
MAX_ROUNDS = 40
TIME_BUDGET_S = 12.0
PRE_ROUNDS = 3  # baseline timings before the candidate first runs (with a probe: each paired with one, after one that sizes it)
IDLE_WINDOW_S = 0.01  # after each round the timing thread sleeps this long: any CPU used meanwhile is not ours
IDLE_SETTLE_S = 0.005  # ...after first letting the runtime's own worker threads (OpenMP spin-waits) go idle
SERIAL_STEPS = ("B", "C1", "Ks", "K1", "Ws")  # serial timings start after the same settle
PROBE_MAX_S = 0.25  # the compute probe is scaled to last as long as the baseline, up to this
BASELINE_CLAMP = 1.25  # a baseline slower than this times its calibrated expectation is clamped
BOOTSTRAP_RESAMPLES = 400
INTERVAL = (0.10, 0.90)  # an 80 % bootstrap interval
STEAL_LIMIT = 0.10  # a round whose CPUs lost more than this share of their time to the host is set aside
HOST_STEAL = "host took the CPUs"  # stop reason: too few undisturbed rounds within twice the budget


def _median_of_all(values: list[float | None]) -> float | None:
    """The median, or None when any round lacks the value (that timing was not taken)."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present and len(present) == len(values) else None


@dataclass(frozen=True)
class Round:
    baseline: float
    candidate: float
    baseline_cpu: float  # CPU seconds other threads of the process used during the baseline call
    idle_cpu: float = 0.0  # CPU per wall second the process used while the timing thread slept after the round
    probe_serial: float | None = None
    probe_parallel: float | None = None
    probe_serial_pinned: float | None = None  # the serial probe on C1's CPU (K1): what the pin alone costs serial code
    reference: float | None = None
    bandwidth_serial: float | None = None
    bandwidth_parallel: float | None = None
    baseline_clamped: bool = False
    single_core: float | None = None  # the candidate confined to one core (C1)
    single_core_cpu: float | None = None  # process CPU seconds per wall second during C1: <= 1 when the pin holds
    staff_threads_cpu: float | None = None  # CPU seconds threads older than the candidate (numba's pool) used during C
    host_ticks: int | None = None  # clock ticks the VM's host took from the process's CPUs during the round

    @property
    def baseline_speedup(self) -> float:
        """B/C: over the staff serial baseline (a faster serial loop counts too)."""
        return self.baseline / self.candidate

    @property
    def pin_penalty(self) -> float:
        """K1/Ks: how much slower serial staff code ran on C1's CPU than unpinned, moments apart (1 on an
        idle machine; more when that CPU is shared and an unpinned program could have moved away)."""
        if self.probe_serial_pinned is None or self.probe_serial is None:
            return 1.0
        return self.probe_serial_pinned / self.probe_serial

    @property
    def self_speedup(self) -> float | None:
        """C1/C over the pin's own cost (K1/Ks): over the candidate itself on one core, as fast as a
        serial program gets one core now (only running in parallel counts)."""
        if self.single_core is None:
            return None
        return self.single_core / (self.candidate * self.pin_penalty)

    @property
    def speedup(self) -> float:
        """This round's min(C1/C, B/C), or B/C without C1: a diagnostic. What is graded is the
        minimum of the two ratios' medians over all rounds (`graded_speedup`), not the median of this."""
        own = self.self_speedup
        return self.baseline_speedup if own is None else min(own, self.baseline_speedup)

    @property
    def capacity(self) -> float | None:
        if self.probe_serial is None or self.probe_parallel is None:
            return None
        return self.probe_serial / self.probe_parallel


@dataclass(frozen=True)
class Measurement:
    rounds: tuple[Round, ...]
    baseline_before: float  # median baseline time before the candidate ever ran
    bandwidth_bytes: float | None = None  # bytes the bandwidth probe moves per call
    task_bytes: float | None = None  # bytes the task moves per call (memory-bound tasks)
    stop_reason: str = ""
    interval: tuple[float, float] = (0.0, 0.0)  # bootstrap interval of the graded speedup (`graded_interval`)
    pinned_cpu: float | None = None  # cores' worth of CPU the parallel probe used pinned to one core: <= 1 when the pin takes
    set_aside: int = 0  # rounds not counted: the host took the CPUs during them (`STEAL_LIMIT`)
    host_steal: float | None = None  # share of the CPUs' time the host took over all rounds; None: the kernel keeps no count

    @property
    def speedup(self) -> float:
        """The graded speedup: min(median C1/C, median B/C), or median B/C without one-core timings."""
        return graded_speedup(self.rounds)

    @property
    def baseline_speedup(self) -> float:
        """Median B/C: how much faster than the staff serial baseline, for whatever reason."""
        return statistics.median(r.baseline_speedup for r in self.rounds)

    @property
    def self_speedup(self) -> float | None:
        """Median C1/C: how much faster than itself on one core; None without single-core timings."""
        return _median_of_all([r.self_speedup for r in self.rounds])

    @property
    def pinned_cores(self) -> float | None:
        """Cores' worth of CPU the process used while pinned: the probe's parallel half before the
        rounds, or the candidate's C1 calls (their median), whichever is more. At most 1 when the
        pin holds, whatever the machine's load; ~2 on an idle 2-core machine when it does not."""
        c1 = [r.single_core_cpu for r in self.rounds if r.single_core_cpu is not None]
        values = ([self.pinned_cpu] if self.pinned_cpu is not None else []) + ([statistics.median(c1)] if c1 else [])
        return max(values) if values else None

    @property
    def single_core_speedup(self) -> float | None:
        """Median B/C1 (C1 over the pin's own cost): the candidate on one core against the staff serial
        baseline (its serial speed)."""
        if any(r.single_core is None for r in self.rounds):
            return None
        return statistics.median(r.baseline * r.pin_penalty / r.single_core for r in self.rounds)  # type: ignore[operator]

    @property
    def capacity(self) -> float | None:
        """Median speedup of the perfectly parallel probe: the parallelism the machine delivers now."""
        return _median_of_all([r.capacity for r in self.rounds])

    @property
    def efficiency(self) -> float | None:
        """The graded speedup with each round's ratios over that round's capacity: the share of the
        machine's parallelism the code used.

        It stays put when the machine's speed changes under us (a neighbour on the same physical
        core), which the raw speedup cannot: both numbers of a round are timed moments apart.
        """
        if any(r.capacity is None for r in self.rounds):
            return None
        return graded_speedup(self.rounds, lambda r, ratio: ratio / r.capacity)  # type: ignore[operator]

    @property
    def reference_speedup(self) -> float | None:
        if any(r.reference is None for r in self.rounds):
            return None
        return statistics.median(r.baseline / r.reference for r in self.rounds)  # type: ignore[operator]

    @property
    def background_cpu(self) -> float:
        """Median CPU used by threads other than the timing one during baseline calls, per wall second.

        0 for serial staff code alone. A student thread still running, even one that only takes
        turns with the baseline for the GIL (process CPU = wall, but the baseline gets half), shows here;
        so does one that cannot run during the baseline (compiled code holding the GIL) but burns a
        core while the timing thread sleeps between rounds, competing with the probe and the baseline's
        other rounds. The larger of the two medians counts.
        """
        during_baseline = statistics.median(r.baseline_cpu / r.baseline for r in self.rounds)
        return max(during_baseline, statistics.median(r.idle_cpu for r in self.rounds))

    @property
    def bandwidth_ceiling(self) -> float | None:
        """Bytes/s the parallel bandwidth probe moved: the most any memory-bound code can reach here."""
        if self.bandwidth_bytes is None:
            return None
        return self.bandwidth_bytes / statistics.median(r.bandwidth_parallel for r in self.rounds)  # type: ignore[misc]

    def achieved_bandwidth(self, which: str = "candidate") -> float | None:
        if self.task_bytes is None:
            return None
        return self.task_bytes / statistics.median(getattr(r, which) for r in self.rounds)

    def metrics(self) -> dict[str, Any]:
        steal = {"set_aside_rounds": self.set_aside, "host_steal": None if self.host_steal is None else round(self.host_steal, 3)}
        if not self.rounds:
            return {"rounds": 0, "stop": self.stop_reason, **steal}
        low, high = self.interval
        out: dict[str, Any] = {
            "speedup": round(self.speedup, 3),
            "speedup_low": round(low, 3),
            "speedup_high": round(high, 3),
            "rounds": len(self.rounds),
            "capacity": None if self.capacity is None else round(self.capacity, 3),
            "efficiency": None if self.efficiency is None else round(self.efficiency, 3),
            "baseline_s": round(statistics.median(r.baseline for r in self.rounds), 6),
            "candidate_s": round(statistics.median(r.candidate for r in self.rounds), 6),
            "baseline_speedup": round(self.baseline_speedup, 3),
            "baseline_clamped_rounds": sum(r.baseline_clamped for r in self.rounds),
            "background_cpu": round(self.background_cpu, 3),
            "stop": self.stop_reason,
            **steal,
        }
        if len(self.rounds) >= 2:  # rounds alternate their order: a gap here means the order matters
            out["speedup_by_order"] = [round(graded_speedup(self.rounds[parity::2]), 3) for parity in (0, 1)]
        if self.self_speedup is not None:
            out["self_speedup"] = round(self.self_speedup, 3)
            out["single_core_speedup"] = round(self.single_core_speedup, 3)  # type: ignore[arg-type]
            out["single_core_s"] = round(statistics.median(r.single_core for r in self.rounds), 6)  # type: ignore[type-var]
            out["pin_penalty"] = round(statistics.median(r.pin_penalty for r in self.rounds), 3)
        if self.pinned_cores is not None:
            out["pinned_cores"] = round(self.pinned_cores, 3)
        staff = [r.staff_threads_cpu / r.candidate for r in self.rounds if r.staff_threads_cpu is not None]
        if staff:  # share of a core numba's pool (and any other thread older than the candidate) used during C
            out["staff_threads_cpu"] = round(statistics.median(staff), 3)
        if self.reference_speedup is not None:
            out["reference_speedup"] = round(self.reference_speedup, 3)
        if self.bandwidth_ceiling is not None:
            out["bandwidth_ceiling_gbs"] = round(self.bandwidth_ceiling / 1e9, 2)
        if self.task_bytes is not None:
            out["candidate_gbs"] = round(self.achieved_bandwidth() / 1e9, 2)  # type: ignore[operator]
            out["baseline_gbs"] = round(self.achieved_bandwidth("baseline") / 1e9, 2)  # type: ignore[operator]
        return out


class WrongAnswerWhileTimed(AssertionError):
    """The candidate returned a wrong answer on a timed run: its speed earns nothing."""


def bootstrap_interval(values: Sequence[float], seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of the median: robust to a few disturbed rounds, honest about spread."""
    data = np.asarray(values, dtype=float)
    if data.size < 2:
        return float(data[0]), float(data[0])
    rng = np.random.default_rng(seed)
    samples = rng.choice(data, size=(BOOTSTRAP_RESAMPLES, data.size), replace=True)
    medians = np.median(samples, axis=1)
    lo, hi = np.quantile(medians, INTERVAL)
    return float(lo), float(hi)


def fresh_input(arg: Any, rng: np.random.Generator, share: float = 0.01) -> Any:
    """A copy of a NumPy array with a few elements redrawn between its min and max (other inputs as they are)."""
    if type(arg) is not np.ndarray or arg.size == 0 or not np.issubdtype(arg.dtype, np.number):
        return arg
    out = arg.copy()
    flat = out.reshape(-1)
    count = max(1, int(flat.size * share))
    where = rng.choice(flat.size, size=min(count, flat.size), replace=False)
    low, high = float(flat.min()), float(flat.max())
    if np.issubdtype(arg.dtype, np.integer):
        flat[where] = rng.integers(int(low), int(high) + 1, size=where.size)
    else:
        flat[where] = rng.uniform(low, high if high > low else low + 1.0, size=where.size)
    return out


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_own_pid = os.getpid


def _stolen_ticks(cpus: frozenset[int]) -> int | None:
    """Clock ticks the VM's host has taken from these CPUs since boot: the 8th field ("steal") of
    their lines in /proc/stat. None where the kernel keeps no such count (no /proc, not Linux)."""
    try:
        fd = _os_open("/proc/stat", os.O_RDONLY)
        try:
            text = _os_read(fd, 1 << 16).decode("ascii", "replace")
        finally:
            _os_close(fd)
        total, seen = 0, 0
        for line in text.splitlines()[1:]:
            if not line.startswith("cpu"):
                break
            fields = line.split()
            if int(fields[0][3:]) in cpus:
                total += int(fields[8])
                seen += 1
        return total if seen else None
    except (OSError, ValueError, IndexError):
        return None


def _host_took(ticks: int | None, wall: float, cpus: int) -> bool:
    """More than STEAL_LIMIT of the CPUs' time over ``wall`` seconds went to the host; one tick
    (the count's resolution) never does."""
    return ticks is not None and ticks > max(1.0, STEAL_LIMIT * wall * cpus * _CLOCK_TICKS)


def _children(pid: int) -> list[int]:
    """Direct children of ``pid``, from the kernel's per-thread lists (a few small reads, no /proc scan)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                found += [int(v) for v in f.read().split()]
        except (OSError, ValueError):
            continue
    return found


def _descendants_cpu() -> float:
    """CPU seconds used so far by every process this one started, and theirs, running or ended.

    A child process is not in this process's CPU time: without this, a submission could keep
    children spinning while the grader times the baseline and the probes (stopping them while its
    own functions run), making the machine look busy and its line pending on every machine.
    """
    total, todo = 0.0, _children(_own_pid())
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15]) / _CLOCK_TICKS  # utime stime cutime cstime
        except (OSError, IndexError, ValueError):
            continue
        todo += _children(pid)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return total + reaped.ru_utime + reaped.ru_stime


def _cpu() -> float:
    """CPU seconds of this process and everything it started."""
    return _process_cpu() + _descendants_cpu()


def _timed(fn: Callable[[Any], Any], arg: Any) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of the process's *other* threads and its child processes meanwhile, result)."""
    c0, m0, t0 = _cpu(), _thread_cpu(), _wall()
    out = fn(arg)
    t1, m1, c1 = _wall(), _thread_cpu(), _cpu()
    return t1 - t0, max(0.0, (c1 - c0) - (m1 - m0)), out


def _idle_cpu() -> float:
    """Process CPU per wall second while this thread sleeps: threads the timed code left running.

    Parallel runtimes keep their worker threads spinning for a moment after a parallel region
    (the probes and correct student code alike): a short settle first keeps that out of the count,
    while a thread that keeps running is seen for the whole window.
    """
    _sleep(IDLE_SETTLE_S)
    c0, t0 = _cpu(), _wall()
    _sleep(IDLE_WINDOW_S)
    c1, t1 = _cpu(), _wall()
    return max(0.0, c1 - c0) / (t1 - t0)


def _wall_of(fn: Callable[[], Any]) -> float:
    t0 = _wall()
    fn()
    return _wall() - t0


def _identical(a: Any, b: Any) -> bool:
    """Two NumPy arrays of one shape and dtype with equal values (no NaN): whatever check one passes,
    the other passes too. A tenth of the time of a tolerance check on a large array."""
    return (
        type(a) is np.ndarray
        and type(b) is np.ndarray
        and a.shape == b.shape
        and a.dtype == b.dtype
        and bool(np.array_equal(a, b))
    )


def _run_time(tids: list[int]) -> float | None:
    """Seconds on CPU of these threads of this process so far (ended ones count 0); None without schedstat."""
    total = 0
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            if os.path.exists(f"/proc/self/task/{tid}"):
                return None  # the kernel keeps no schedstat
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


class PinUnavailable(RuntimeError):
    """This process cannot confine its own threads to one CPU here."""


def _tasks(pid: int | str) -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except (OSError, ValueError):
        return []


def _children(pid: int) -> list[int] | None:
    """Child processes from /proc/<pid>/task/<tid>/children (None where the kernel lacks that file)."""
    found: list[int] = []
    for tid in _tasks(pid):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found += [int(c) for c in f.read().split()]
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{tid}"):
                continue  # the thread ended meanwhile
            return None
        except (OSError, ValueError):
            continue
    return found


def _descendants() -> list[int]:
    """Process ids of this process's children, grandchildren, ... (a process pool's workers)."""
    found, todo = [], [os.getpid()]
    while todo:
        kids = _children(todo.pop())
        if kids is None:
            return _descendants_by_scan()
        found += kids
        todo += kids
    return found


def _descendants_by_scan() -> list[int]:
    """The same from every process's parent id (slower: reads /proc/<pid>/stat of each process)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _all_tasks() -> list[int]:
    """Every thread of this process and of its descendant processes."""
    tids = _tasks("self")
    for pid in _descendants():
        tids += _tasks(pid)
    return tids


@contextmanager
def pinned_to_one_core(which: int = 0) -> Iterator[int]:
    """Run the block with this process confined to one CPU, whatever its style of parallelism.

    Every thread of the process (numba's or OpenMP's worker pool, a student's thread pool) and of
    its descendant processes (a process pool) is pinned to one CPU, the ``which``-th usable one
    (modulo their count); threads and processes started inside the block inherit the pin, and
    numba's ``prange`` runs on one thread (``set_num_threads(1)`` for the calling thread).
    ``sched_setaffinity(0)`` alone would pin only the calling thread. Afterwards, also when the
    block raises, every thread gets its own mask back, and threads started meanwhile get the
    process's. Yields the CPU. Raises `PinUnavailable` if the calling thread cannot be pinned.
    """
    default = os.sched_getaffinity(0)
    allowed = sorted(default)
    cpu = allowed[which % len(allowed)]
    me = _tasks("self")
    saved: dict[int, set[int]] = {}
    numba = sys.modules.get("numba")
    threads = None
    try:
        for _ in range(4):  # a thread started while we pin inherits its creator's mask: look again
            new = [tid for tid in _all_tasks() if tid not in saved]
            if not new:
                break
            for tid in new:
                try:
                    saved[tid] = os.sched_getaffinity(tid)
                    os.sched_setaffinity(tid, {cpu})
                except ProcessLookupError:
                    continue  # ended meanwhile
                except OSError as exc:
                    if tid in me:
                        raise PinUnavailable(f"cannot pin thread {tid} to CPU {cpu}: {exc}") from None
        if os.sched_getaffinity(0) != {cpu}:
            raise PinUnavailable(f"the pin to CPU {cpu} did not take")
        if numba is not None:
            threads = numba.get_num_threads()
            numba.set_num_threads(1)
        yield cpu
    finally:
        if threads is not None:
            numba.set_num_threads(threads)  # type: ignore[union-attr]
        for tid in _all_tasks():
            try:
                os.sched_setaffinity(tid, saved.get(tid, default))
            except OSError:
                continue  # ended meanwhile


def measure(
    baseline: Callable[[Any], Any],
    candidate: Callable[[Any], Any],
    inputs: Sequence[Any],
    check: Callable[[Any, Any], None],
    *,
    probe: Any | None = None,
    bandwidth: Any | None = None,
    reference: Callable[[Any], Any] | None = None,
    task_bytes: float | None = None,
    decide: Callable[[Measurement], bool] = lambda m: False,
    settled: Callable[[Measurement], bool] | None = None,
    one_core: Callable[[int], ContextManager[Any]] | None = None,
    min_rounds: int = MIN_ROUNDS,
    max_rounds: int = MAX_ROUNDS,
    budget_s: float = TIME_BUDGET_S,
    early_rounds: int = EARLY_ROUNDS,
    prepare: Callable[[Any], Any] | None = None,
) -> Measurement:
    """Time baseline vs candidate with the machine's capacity alongside; ``check(candidate_out, baseline_out)``.

    ``probe`` (CPU parallelism) and ``bandwidth`` (memory-bound tasks) provide ``serial()`` and
    ``parallel()``, and the probe optionally ``scale(factor)``; see `grader.worker.calibration`. GPU measurements pass neither.
    ``one_core(round)`` (CPU parts: `pinned_to_one_core`) is a context in which the candidate is
    also timed each round (C1), so that only its speedup from running in parallel is graded; with
    a probe, its parallel half runs inside it too before the rounds; the CPU the process uses per
    wall second in both says whether the pin holds (``pinned_cores``: at most 1 when it does).
    ``decide(measurement)`` returning True stops early once ``min_rounds`` are done;
    ``settled(measurement)``, a stricter rule, from ``early_rounds`` on (a verdict no round disputes).
    ``prepare(input)``, untimed, turns each input (every round's fresh one too) into what baseline
    and candidate are called with: for a GPU, the host array and its copy on the device.
    """
    if not inputs:
        raise ValueError("measure needs at least one input")
    prepare = prepare or (lambda arg: arg)
    fixed = [prepare(x) for x in inputs]  # warm-up and calibration calls
    started = _wall()
    baseline(fixed[0])  # compile: never timed
    # Before the candidate ever runs: how long the baseline takes, relative to the serial probe
    # when there is one (so a machine that changes speed moves both and nothing is clamped). With
    # a probe, one timed call sizes it and the baseline calls paired with it give the median too.
    before = [_timed(baseline, fixed[i % len(fixed)])[0] for i in range(1 if probe is not None else PRE_ROUNDS)]
    per_probe: list[float] = []
    pinned: list[float] = []
    if probe is not None:
        if hasattr(probe, "scale"):  # a probe as long as the baseline sees the same disturbances
            probe.scale(min(before[0], PROBE_MAX_S) / _wall_of(probe.serial))
        for i in range(PRE_ROUNDS):
            b = _timed(baseline, fixed[(i + 1) % len(fixed)])[0]
            before.append(b)
            ks = _wall_of(probe.serial)
            per_probe.append(b / ks)
            if one_core is not None:  # does the pin take? a perfectly parallel probe gains nothing in it
                with one_core(i):
                    c0 = _cpu()
                    wall = _wall_of(probe.parallel)
                    pinned.append((_cpu() - c0) / wall)
    baseline_before = statistics.median(before)
    baseline_per_probe = statistics.median(per_probe) if per_probe else None
    pinned_cpu = statistics.median(pinned) if pinned else None
    # Threads that exist before the candidate ever runs are the grader's (numba's pool after the
    # probe, a timer). For a candidate without prange, CPU they use while it runs means they spin
    # and compete with it; a prange candidate does half its own work on that pool, so there it is
    # no diagnostic (benchmarks/README.md, "Constants").
    staff_threads = [t for t in _tasks("self") if t != _native_id()]
    candidate(fixed[0])
    if one_core is not None:
        with one_core(0):
            candidate(fixed[0])  # whatever it compiles or starts on first use under the pin: not timed
    if reference is not None:
        reference(fixed[0])

    def verify(out: Any, want: Any) -> None:
        try:
            check(out, want)
        except AssertionError as exc:
            raise WrongAnswerWhileTimed(f"wrong answer on a timed run: {exc}") from None

    steps = _round_steps(baseline, candidate, probe, bandwidth, reference, one_core, staff_threads)
    rounds: list[Round] = []
    stop = "max rounds"
    rng = np.random.default_rng()
    cpus = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else frozenset()
    steal = _Steal(cpus)

    def done(stop: str) -> Measurement:
        return _with_interval(rounds, baseline_before, bandwidth, task_bytes, stop, pinned_cpu, steal)

    while len(rounds) < max_rounds:
        state = _RoundState(index=len(rounds), order=list(steps))  # a set-aside round is timed again in its order
        if state.index % 2:
            state.order.reverse()
        arg = prepare(fresh_input(inputs[state.index % len(inputs)], rng))
        steal.start()
        for position, step in enumerate(state.order):
            if step in SERIAL_STEPS:
                _sleep(IDLE_SETTLE_S)  # the last parallel step's spinning workers would slow it and count as "background"
            state.position = position
            steps[step](arg, state)
        host_ticks, disturbed = steal.end()
        idle_cpu = _idle_cpu()
        last = state.unchecked[-1]
        verify(last, state.baseline_out)
        for out in state.unchecked[:-1]:
            if not _identical(out, last):  # equal values need no second tolerance check
                verify(out, state.baseline_out)
        if disturbed:  # not counted, and its time not charged to the budget; a second budget at most
            if _wall() - started > 2 * budget_s:
                return done(HOST_STEAL if len(rounds) < min_rounds else "time budget")
            continue
        times = state.times
        expected = baseline_per_probe * times["Ks"] if baseline_per_probe is not None else baseline_before
        limit = BASELINE_CLAMP * expected
        rounds.append(
            Round(
                baseline=min(times["B"], limit),
                candidate=times["C"],
                probe_serial=times.get("Ks"),
                probe_parallel=times.get("Kp"),
                probe_serial_pinned=times.get("K1"),
                baseline_cpu=state.baseline_cpu,
                idle_cpu=idle_cpu,
                reference=times.get("R"),
                bandwidth_serial=times.get("Ws"),
                bandwidth_parallel=times.get("Wp"),
                baseline_clamped=times["B"] > limit,
                single_core=times.get("C1"),
                single_core_cpu=state.single_core_cpu if "C1" in times else None,
                staff_threads_cpu=state.staff_cpu,
                host_ticks=host_ticks,
            )
        )
        if settled is not None and early_rounds <= len(rounds) < min_rounds:
            if settled(done("")):
                stop = "every round agrees"
                break
        elif len(rounds) >= min_rounds:
            if decide(done("")):
                stop = "decision clear"
                break
            if _wall() - started - steal.set_aside_s > budget_s:
                stop = "time budget"
                break
    return done(stop)


class _Steal:
    """What the host took from the process's CPUs, round by round (see `STEAL_LIMIT`)."""

    def __init__(self, cpus: frozenset[int]) -> None:
        self.cpus = cpus
        self.set_aside = 0  # rounds
        self.set_aside_s = 0.0  # their wall seconds
        self.ticks = 0  # over every round, kept or not
        self.wall = 0.0
        self.counted = False  # the kernel gave a count for some round
        self._t0, self._s0 = 0.0, None

    def start(self) -> None:
        self._s0, self._t0 = _stolen_ticks(self.cpus), _wall()

    def end(self) -> tuple[int | None, bool]:
        """The ticks the host took during the round just timed, and whether to set it aside."""
        wall, now = _wall() - self._t0, _stolen_ticks(self.cpus)
        ticks = None if now is None or self._s0 is None else now - self._s0
        self.wall += wall
        self.ticks += ticks or 0
        self.counted = self.counted or ticks is not None
        if _host_took(ticks, wall, len(self.cpus)):
            self.set_aside += 1
            self.set_aside_s += wall
            return ticks, True
        return ticks, False

    @property
    def share(self) -> float | None:
        if not self.counted or not self.wall or not self.cpus:
            return None
        return self.ticks / _CLOCK_TICKS / (self.wall * len(self.cpus))


@dataclass
class _RoundState:
    """One round while it runs: its step order, the times so far, and outputs still to check."""

    index: int
    order: list[str]
    position: int = 0
    times: dict[str, float] = field(default_factory=dict)
    baseline_out: Any = None
    baseline_cpu: float = 0.0
    unchecked: list[Any] = field(default_factory=list)  # the candidate's outputs (C, C1), checked after the round
    single_core_cpu: float = 0.0
    staff_cpu: float | None = None

    def candidate_runs_later(self) -> bool:
        return any(s in ("C", "C1") for s in self.order[self.position + 1 :])


Step = Callable[[Any, _RoundState], None]


def _wall_step(code: str, fn: Callable[[], Any]) -> Step:
    """A step that times one of the machine's probes (it takes no input)."""

    def step(arg: Any, state: _RoundState) -> None:
        state.times[code] = _wall_of(fn)

    return step


def _round_steps(
    baseline: Callable[[Any], Any],
    candidate: Callable[[Any], Any],
    probe: Any | None,
    bandwidth: Any | None,
    reference: Callable[[Any], Any] | None,
    one_core: Callable[[int], ContextManager[Any]] | None,
    staff_threads: list[int],
) -> dict[str, Step]:
    """The timed steps of a round, in their forward order, each by its code (see `Round`):
    B baseline, C candidate, C1 candidate pinned to one core, Ks/K1/Kp the probe serial, serial
    pinned and parallel, R the staff reference, Ws/Wp the bandwidth probe serial and parallel."""

    def keep(state: _RoundState, out: Any) -> None:
        # Every timed output is checked after the round; one is copied first when the next
        # candidate call may write into the same buffer.
        state.unchecked.append(out.copy() if isinstance(out, np.ndarray) and state.candidate_runs_later() else out)

    def b(arg: Any, state: _RoundState) -> None:
        state.times["B"], state.baseline_cpu, state.baseline_out = _timed(baseline, arg)

    def c(arg: Any, state: _RoundState) -> None:
        s0 = _run_time(staff_threads)
        state.times["C"], _, out = _timed(candidate, arg)
        s1 = _run_time(staff_threads)
        state.staff_cpu = None if s0 is None or s1 is None else s1 - s0
        keep(state, out)

    steps: dict[str, Step] = {"B": b, "C": c}
    if one_core is not None:
        pin = one_core

        def c1(arg: Any, state: _RoundState) -> None:
            with pin(state.index):  # which CPU alternates between rounds
                c0 = _cpu()
                state.times["C1"], _, out = _timed(candidate, arg)
                state.single_core_cpu = (_cpu() - c0) / state.times["C1"]
            keep(state, out)

        steps["C1"] = c1
    if probe is not None:
        serial = probe.serial

        def k1(arg: Any, state: _RoundState) -> None:
            with pin(state.index):  # the CPU C1 gets this round
                state.times["K1"] = _wall_of(serial)

        steps["Ks"] = _wall_step("Ks", serial)
        if one_core is not None:
            steps["K1"] = k1
        steps["Kp"] = _wall_step("Kp", probe.parallel)
    if reference is not None:
        ref = reference

        def r(arg: Any, state: _RoundState) -> None:
            state.times["R"], _, _ = _timed(ref, arg)

        steps["R"] = r
    if bandwidth is not None:
        steps["Ws"], steps["Wp"] = _wall_step("Ws", bandwidth.serial), _wall_step("Wp", bandwidth.parallel)
    return steps


def _with_interval(
    rounds: list[Round],
    before: float,
    bandwidth: Any,
    task_bytes: float | None,
    stop: str,
    pinned: float | None = None,
    steal: _Steal | None = None,
) -> Measurement:
    return Measurement(
        pinned_cpu=pinned,
        rounds=tuple(rounds),
        baseline_before=before,
        bandwidth_bytes=getattr(bandwidth, "bytes", None),
        task_bytes=task_bytes,
        stop_reason=stop,
        interval=graded_interval(rounds) if rounds else (0.0, 0.0),
        set_aside=steal.set_aside if steal else 0,
        host_steal=steal.share if steal else None,
    )


def graded_speedup(rounds: Sequence[Round], per_round: Callable[[Round, float], float] = lambda r, ratio: ratio) -> float:
    """min(median C1/C, median B/C) over the rounds, or median B/C without one-core timings;
    ``per_round(round, ratio)`` rescales each round's ratio first (by its capacity, for efficiency).

    The minimum of the two medians, not the median of per-round minima: a round's two ratios are
    noisy, and taking the smaller in every round pulls the result below both (on an idle 2-core VM
    the a3 reference got 1.32 that way where its two medians were 1.57 and 1.88).
    """
    base = statistics.median(per_round(r, r.baseline_speedup) for r in rounds)
    if any(r.self_speedup is None for r in rounds):
        return base
    return min(base, statistics.median(per_round(r, r.self_speedup) for r in rounds))  # type: ignore[arg-type]


def graded_interval(rounds: Sequence[Round]) -> tuple[float, float]:
    """Bootstrap interval of the graded speedup: the smaller of the two ratios' intervals, bound by bound."""
    low, high = bootstrap_interval([r.baseline_speedup for r in rounds])
    if all(r.self_speedup is not None for r in rounds):
        own_low, own_high = bootstrap_interval([r.self_speedup for r in rounds])  # type: ignore[misc]
        low, high = min(low, own_low), min(high, own_high)
    return low, high
