"""Run a simulated block's threads as greenlets instead of operating-system threads.

numba's simulator starts an OS thread per CUDA thread and polls them: on this kind of machine a
thread costs ~130 us to start alone and ~300 us inside the simulator, so a 40-block launch of 256
threads took 3 s before the kernel did anything, and every barrier woke 256 threads that fought
for the GIL. Here each CUDA thread is a greenlet (a coroutine with its own stack) run by one
scheduler in the launching thread: switching costs about a microsecond, and the order is
deterministic.

The barrier rule is numba's: `cuda.syncthreads()` suspends a thread until every thread of the
block that is still running waits there too, then releases them all. A thread that spins waiting
for another one (a lock taken with `cuda.atomic.compare_and_swap`, a warp operation waiting for
its lanes) calls `pause()` so the others get to run. The race detector does not depend on the
order threads run in (`races.py`), so verdicts stay what they were.
"""

from __future__ import annotations

import collections
from typing import Any, Callable

import numpy as np
from greenlet import GreenletExit, getcurrent, greenlet

BARRIER, PAUSE = "barrier", "pause"


class _Running:
    """The simulated thread whose code runs now (None outside a kernel). Module globals never
    change: the grading worker's tamper guard watches them."""

    thread: SimThread | None = None


_running = _Running()


def current() -> SimThread | None:
    return _running.thread


def pause() -> None:
    """Let the block's other threads run before this one goes on; a no-op outside a kernel."""
    t = _running.thread
    if t is not None:
        t._scheduler.switch(PAUSE)


class SimThread:
    """One CUDA thread of a simulated block: what numba's BlockThread offers kernel code (its
    indices, barriers, `syncthreads_count/and/or`), plus what the race detector and the warp
    intrinsics need to know about it."""

    def __init__(self, target: Callable[[], Any], manager: Any, block: tuple, thread: tuple, debug: bool, dim3: type) -> None:
        self._target = target
        self._manager = manager
        self.blockIdx = dim3(*block)
        self.threadIdx = dim3(*thread)
        bx, by, _ = manager._block_dim
        self.thread_id = thread[0] + bx * (thread[1] + by * thread[2])
        self.debug = debug
        self.exception: tuple[BaseException, Any] | None = None
        self.abort = False
        self.syncthreads_blocked = False
        self.started = False
        self.finished = False
        self._scheduler: Any = None
        self._greenlet: Any = None

    def run(self) -> None:
        """The kernel, with an error kept as numba keeps it (prefixed with the thread's indices)."""
        try:
            if self.debug:
                np.seterr(divide="raise")
            self._target()
        except Exception as e:  # noqa: BLE001 - re-raised by the scheduler in the launching thread
            where = f"tid={list(self.threadIdx)} ctaid={list(self.blockIdx)}"
            self.exception = (type(e)(f"{where}: {e}" if str(e) else where), e.__traceback__)

    def is_alive(self) -> bool:
        return self.started and not self.finished

    def syncthreads(self) -> None:
        if self.abort:
            raise RuntimeError("abort flag set on syncthreads call")
        self.syncthreads_blocked = True
        self._scheduler.switch(BARRIER)
        if self.abort:
            raise RuntimeError("abort flag set on syncthreads clear")

    def _sync_reduce(self, value: Any, reduce: Callable[[np.ndarray], Any]) -> Any:
        state = self._manager.block_state
        state[self.threadIdx.x, self.threadIdx.y, self.threadIdx.z] = value
        self.syncthreads()
        out = reduce(state)
        self.syncthreads()
        return out

    def syncthreads_count(self, value: Any) -> int:
        return int(self._sync_reduce(value, np.count_nonzero))

    def syncthreads_and(self, value: Any) -> int:
        return 1 if self._sync_reduce(value, np.all) else 0

    def syncthreads_or(self, value: Any) -> int:
        return 1 if self._sync_reduce(value, np.any) else 0

    def __str__(self) -> str:
        return f"Thread <<<{self.blockIdx}, {self.threadIdx}>>>"


def run_block(threads: list[SimThread]) -> None:
    """Run one block's threads to the end, barrier by barrier; the first error ends the block."""
    scheduler = getcurrent()
    runnable = collections.deque(threads)
    at_barrier: list[SimThread] = []
    try:
        while runnable or at_barrier:
            if not runnable:  # every live thread waits at the barrier: release them all
                for t in at_barrier:
                    t.syncthreads_blocked = False
                runnable.extend(at_barrier)
                at_barrier = []
            t = runnable.popleft()
            if t._greenlet is None:
                t._scheduler = scheduler
                t._greenlet = greenlet(t.run, parent=scheduler)
                t.started = True
            _running.thread = t
            try:
                why = t._greenlet.switch()
            finally:
                _running.thread = None
            if t.exception is not None:
                raise t.exception[0].with_traceback(t.exception[1])
            if t._greenlet.dead:
                t.finished = True
            elif why == BARRIER:
                at_barrier.append(t)
            else:
                runnable.append(t)
    finally:
        for t in threads:  # the block ended early (an error, a timeout): end the threads left
            if t._greenlet is not None and not t._greenlet.dead:
                t.abort = True
                try:
                    t._greenlet.throw(GreenletExit)
                except BaseException:  # noqa: BLE001 - what the kernel does while being stopped is moot
                    pass
                t.finished = True
