"""Warp-level intrinsics for numba's CUDA simulator, with the semantics of a 32-lane warp.

numba's simulator has no `cuda.shfl_*_sync`, votes, `syncwarp` or `activemask`, so a correct
reduction that finishes with warp shuffles failed with an AttributeError. Here each simulated
thread is a lane (its linear thread index in the block modulo 32, as on a GPU), and a warp
operation is a rendezvous: every lane named in the mask (that exists in the block) deposits its
value, and once all have arrived each lane computes its own result from the same snapshot. What
a GPU leaves undefined is made visible instead of guessed:

- reading a lane that does not take part (outside the mask, or past the end of a partial warp)
  gives the poison value (NaN, or the most negative integer), as an uninitialised read would;
- a lane in the mask that has exited, or waits at `cuda.syncthreads()` while the others wait at a
  warp operation, is an error naming the lanes, not a hang;
- lanes of one warp calling different warp operations at the same time is an error.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from .blocks import current, pause
from .poison import poison_value
from .races import without_thread_prefix

WARP = 32
FULL_MASK = 0xFFFFFFFF
WAIT_LIMIT_S = 30.0  # a rendezvous that long is a deadlock: report it


class WarpError(RuntimeError):
    """A warp operation that would hang or be undefined on a GPU."""

    def __init__(self, message: str) -> None:
        super().__init__(without_thread_prefix(message))


class _Round:
    __slots__ = ("op", "values", "expected", "left")

    def __init__(self, op: str, expected: frozenset[int]) -> None:
        self.op = op
        self.values: dict[int, Any] = {}
        self.expected = expected
        self.left = len(expected)  # lanes that still have to read the result


class _Warp:
    """The rendezvous of one warp of one block."""

    def __init__(self) -> None:
        self.rounds: dict[tuple[int, int], _Round] = {}


def _poison_like(value: Any) -> Any:

    if isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, (float, np.floating)):
        return type(value)(np.nan) if isinstance(value, np.floating) else float("nan")
    if isinstance(value, (np.integer,)):
        return type(value)(poison_value(np.dtype(type(value))))
    if isinstance(value, int):
        return int(np.iinfo(np.int64).min)
    return value


def _lanes(mask: int) -> frozenset[int]:
    return frozenset(lane for lane in range(WARP) if mask >> lane & 1)


def _existing_lanes(t: Any) -> frozenset[int]:
    """The lanes of ``t``'s warp that the block has (the last warp of a block may be partial)."""
    base = t.thread_id // WARP * WARP
    block_size = int(np.prod(t._manager._block_dim))
    return frozenset(lane for lane in range(WARP) if base + lane < block_size)


def _exchange(op: str, mask: int, value: Any, combine: Callable[[int, dict[int, Any]], Any]) -> Any:
    """Deposit ``value`` for this lane, wait for the mask's lanes, return ``combine(lane, values)``."""
    t = current()
    if t is None:
        raise WarpError(f"cuda.{op} called outside a kernel")
    manager = t._manager
    lane = t.thread_id % WARP
    warp_index = t.thread_id // WARP
    mask = int(mask) & FULL_MASK
    named = _lanes(mask)
    if lane not in named:
        raise WarpError(f"lane {lane} called cuda.{op} with a mask (0x{mask:08x}) that leaves itself out")
    expected = named & _existing_lanes(t)
    warps: dict[int, _Warp] = manager.__dict__.setdefault("_warps", {})
    warp = warps.setdefault(warp_index, _Warp())
    counts: dict[int, int] = t.__dict__.setdefault("_warp_calls", {})
    key = (mask, counts.get(mask, 0))  # the n-th operation this lane makes with this mask
    counts[mask] = key[1] + 1
    deadline = time.monotonic() + WAIT_LIMIT_S
    round_ = warp.rounds.get(key)
    if round_ is None:
        round_ = warp.rounds[key] = _Round(op, expected)
    if round_.op != op:
        raise WarpError(f"lanes of warp {warp_index} called cuda.{round_.op} and cuda.{op} at the same time (divergent warp)")
    round_.values[lane] = value
    while len(round_.values) < len(round_.expected):
        if t.abort:  # another thread failed: the launch is over
            raise RuntimeError("abort flag set during a warp operation")
        missing = sorted(round_.expected - round_.values.keys())
        problem = _stuck(manager, warp_index, missing, t._race_epoch)
        if problem or time.monotonic() > deadline:
            raise WarpError(
                f"lane {lane} of warp {warp_index} waits at cuda.{op} but "
                + (problem or f"lane(s) {missing} named in the mask did not arrive in {WAIT_LIMIT_S:.0f} s")
                + ": every lane in the mask must reach the same warp operation"
            )
        pause()  # the block's other threads run: the missing lanes get to arrive
    result = combine(lane, round_.values)
    round_.left -= 1
    if round_.left == 0:
        del warp.rounds[key]
    return result


def _stuck(manager: Any, warp_index: int, missing: list[int], epoch: int) -> str:
    """Why a missing lane can never arrive, or "" while it still may."""
    threads = manager.__dict__.get("_threads", {})
    for lane in missing:
        t = threads.get(warp_index * WARP + lane)
        if t is None or not t.started:
            continue  # not started yet: it will come
        if t.exception:
            continue  # it failed: the simulator reports that failure and aborts us
        if _exited(t):
            return f"lane {lane} has exited"
        # At a barrier in the same phase as us (not one that is just releasing it): it waits for us.
        if t.syncthreads_blocked and t._race_epoch >= epoch:
            return f"lane {lane} waits at cuda.syncthreads()"
    return ""


def _exited(t: Any) -> bool:
    return t is not None and t.finished


def _from(source: int, values: dict[int, Any], own: Any) -> Any:
    if 0 <= source < WARP and source in values:
        return values[source]
    return _poison_like(own)


class WarpIntrinsics:
    """The methods added to numba's FakeCUDAModule (the `cuda` a simulated kernel sees)."""

    def shfl_sync(self, mask, value, src_lane):
        return _exchange("shfl_sync", mask, value, lambda lane, v: _from(int(src_lane) % WARP, v, value))

    def shfl_up_sync(self, mask, value, delta):
        def pick(lane, v):
            src = lane - int(delta)
            return v[lane] if src < 0 else _from(src, v, value)

        return _exchange("shfl_up_sync", mask, value, pick)

    def shfl_down_sync(self, mask, value, delta):
        def pick(lane, v):
            src = lane + int(delta)
            return v[lane] if src >= WARP else _from(src, v, value)

        return _exchange("shfl_down_sync", mask, value, pick)

    def shfl_xor_sync(self, mask, value, lane_mask):
        return _exchange("shfl_xor_sync", mask, value, lambda lane, v: _from(lane ^ int(lane_mask), v, value))

    def all_sync(self, mask, predicate):
        return _exchange("all_sync", mask, bool(predicate), lambda lane, v: int(all(v.values())))

    def any_sync(self, mask, predicate):
        return _exchange("any_sync", mask, bool(predicate), lambda lane, v: int(any(v.values())))

    def eq_sync(self, mask, predicate):
        return _exchange("eq_sync", mask, bool(predicate), lambda lane, v: int(len(set(v.values())) == 1))

    def ballot_sync(self, mask, predicate):
        return _exchange("ballot_sync", mask, bool(predicate), lambda lane, v: sum(1 << k for k, p in v.items() if p))

    def match_any_sync(self, mask, value):
        return _exchange("match_any_sync", mask, value, lambda lane, v: sum(1 << k for k, x in v.items() if x == v[lane]))

    def match_all_sync(self, mask, value):
        def pick(lane, v):
            same = all(x == v[lane] for x in v.values())
            return (sum(1 << k for k in v) if same else 0, same)

        return _exchange("match_all_sync", mask, value, pick)

    def syncwarp(self, mask=FULL_MASK):
        _exchange("syncwarp", mask, None, lambda lane, v: None)
        t = current()
        t._race_warp_epoch += 1  # memory before the syncwarp is ordered before memory after it

    def activemask(self):
        t = current()
        threads = t._manager.__dict__.get("_threads", {})
        base = t.thread_id // WARP * WARP
        return sum(1 << lane for lane in _existing_lanes(t) if not _exited(threads.get(base + lane)))

    def lanemask_lt(self):
        t = current()
        return (1 << (t.thread_id % WARP)) - 1


NAMES = [name for name in vars(WarpIntrinsics) if not name.startswith("_")]
