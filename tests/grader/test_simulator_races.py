"""The strict simulator's race detector and warp intrinsics: verdicts that never change between runs.

Each kernel runs in a child process with `NUMBA_ENABLE_CUDASIM=1` (numba reads it at import) under
`strict_simulator()`; the child prints one JSON line per launch: what it returned or raised.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

KERNELS = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from numba import cuda, float64, int64
    from grader.worker.simulator.strict import strict_simulator

    @cuda.jit
    def total_plain(x, out):
        i = cuda.grid(1)
        if i < x.size and cuda.threadIdx.x == 0:
            out[0] += x[i]

    @cuda.jit
    def total_atomic(x, out):
        i = cuda.grid(1)
        if i < x.size:
            cuda.atomic.add(out, 0, x[i])

    @cuda.jit
    def atomic_then_plain_read(x, out, seen):
        i = cuda.grid(1)
        if i < x.size:
            cuda.atomic.add(out, 0, x[i])
        if cuda.threadIdx.x == 0:
            seen[cuda.blockIdx.x] = out[0]  # reads a total other blocks are still adding to

    @cuda.jit
    def same_flag(x, flag):
        i = cuda.grid(1)
        if i < x.size and x[i] > 0.5:
            flag[0] = 1  # every writer writes the same value: harmless

    @cuda.jit
    def read_shared_input(x, out):
        i = cuda.grid(1)
        if i < out.size:
            out[i] = x[0] + x[x.size - 1]  # every thread of every block reads the same elements

    @cuda.jit
    def warp_tree(x, out):  # the last 32 partial sums reduced by one warp, ordered by syncwarp
        sm = cuda.shared.array(64, float64)
        t = cuda.threadIdx.x
        sm[t] = x[t]
        cuda.syncthreads()
        if t < 32:
            sm[t] += sm[t + 32]
            cuda.syncwarp()
            s = 16
            while s > 0:
                v = sm[t + s] if t < s else 0.0
                cuda.syncwarp()
                if t < s:
                    sm[t] += v
                cuda.syncwarp()
                s //= 2
        if t == 0:
            out[0] = sm[0]

    @cuda.jit
    def warp_tree_unsynced(x, out):  # the same without syncwarp: lanes race on a GPU since Volta
        sm = cuda.shared.array(64, float64)
        t = cuda.threadIdx.x
        sm[t] = x[t]
        cuda.syncthreads()
        if t < 32:
            sm[t] += sm[t + 32]
            s = 16
            while s > 0:
                if t < s:
                    sm[t] += sm[t + s]
                s //= 2
        if t == 0:
            out[0] = sm[0]

    @cuda.jit
    def shared_left_over(out):  # block 1 reads a slot only block 0 wrote
        sm = cuda.shared.array(4, float64)
        if cuda.blockIdx.x == 0 and cuda.threadIdx.x == 0:
            sm[0] = 7.0
        cuda.syncthreads()
        if cuda.threadIdx.x == 0:
            out[cuda.blockIdx.x] = sm[0]

    @cuda.jit
    def intrinsics(out):
        t = cuda.threadIdx.x
        lane = cuda.laneid
        v = float(t)
        out[t, 0] = cuda.shfl_down_sync(0xFFFFFFFF, v, 3)
        out[t, 1] = cuda.shfl_up_sync(0xFFFFFFFF, v, 5)
        out[t, 2] = cuda.shfl_xor_sync(0xFFFFFFFF, v, 1)
        out[t, 3] = cuda.shfl_sync(0xFFFFFFFF, v, 2)
        out[t, 4] = cuda.ballot_sync(0xFFFFFFFF, t % 3 == 0)
        out[t, 5] = cuda.any_sync(0xFFFFFFFF, t == 40)
        out[t, 6] = cuda.all_sync(0xFFFFFFFF, t < 40)
        out[t, 7] = cuda.eq_sync(0xFFFFFFFF, t // 32)
        out[t, 8] = cuda.match_any_sync(0xFFFFFFFF, lane % 4)
        out[t, 9] = cuda.activemask()
        out[t, 10] = cuda.lanemask_lt()
        cuda.syncwarp()

    @cuda.jit
    def divergent_ops(out):
        t = cuda.threadIdx.x
        if t % 2 == 0:
            out[t] = cuda.shfl_down_sync(0xFFFFFFFF, 1.0, 1)
        else:
            out[t] = cuda.any_sync(0xFFFFFFFF, True)

    @cuda.jit
    def shuffle_against_barrier(out):
        t = cuda.threadIdx.x
        if t == 5:
            cuda.syncthreads()
        else:
            out[t] = cuda.shfl_down_sync(0xFFFFFFFF, 1.0, 1)

    @cuda.jit
    def waits_for_a_later_thread(flag, out):  # thread 0 spins until the block's last thread raises a flag
        t = cuda.threadIdx.x
        if t == 0:
            while cuda.atomic.add(flag, 0, 0) == 0:
                pass
            out[0] = 1
        if t == cuda.blockDim.x - 1:
            cuda.atomic.exch(flag, 0, 1)

    @cuda.jit
    def double(x):
        i = cuda.grid(1)
        if i < x.size:
            x[i] *= 2.0

    def streamed(how):
        s = cuda.stream()
        d = cuda.to_device(np.arange(4.0), stream=s)
        double[1, 4, s](d)
        host = cuda.pinned_array(4, np.float64)
        if how == "auto":
            with s.auto_synchronize():
                d.copy_to_host(host, stream=s)
        else:
            d.copy_to_host(host, stream=s)
        if how == "stream":
            s.synchronize()
        elif how == "device":
            cuda.synchronize()
        elif how == "default stream copy":
            cuda.to_device(np.zeros(1)).copy_to_host()  # legacy default stream: waits for s
        print(json.dumps({"case": "stream " + how, "raised": None, "result": host.tolist()}))

    def launch(name, kernel, config, *args):
        try:
            kernel[config](*args)
            result = [a.tolist() for a in args if isinstance(a, np.ndarray)][-1]
            print(json.dumps({"case": name, "raised": None, "result": result}))
        except Exception as exc:  # every failure is a verdict to check
            print(json.dumps({"case": name, "raised": type(exc).__name__, "message": str(exc)}))

    rng = np.random.default_rng(int(sys.argv[1]))
    x = rng.random(300)
    with strict_simulator():
        launch("total_plain", total_plain, (5, 64), x, np.zeros(1))
        launch("total_atomic", total_atomic, (5, 64), x, np.zeros(1))
        launch("atomic_then_plain_read", atomic_then_plain_read, (5, 64), x, np.zeros(1), np.zeros(5))
        launch("same_flag", same_flag, (5, 64), x, np.zeros(1, np.int64))
        launch("read_shared_input", read_shared_input, (5, 64), x, np.zeros(300))
        launch("warp_tree", warp_tree, (1, 64), x[:64].copy(), np.zeros(1))
        launch("warp_tree_unsynced", warp_tree_unsynced, (1, 64), x[:64].copy(), np.zeros(1))
        launch("shared_left_over", shared_left_over, (2, 4), np.zeros(2))
        launch("intrinsics", intrinsics, (1, 48), np.zeros((48, 11)))
        launch("divergent_ops", divergent_ops, (1, 32), np.zeros(32))
        launch("shuffle_against_barrier", shuffle_against_barrier, (1, 32), np.zeros(32))
        launch("waits_for_a_later_thread", waits_for_a_later_thread, (1, 64), np.zeros(1, np.int64), np.zeros(1, np.int64))
        for how in ("stream", "auto", "device", "default stream copy", "none"):
            streamed(how)
    """
)


def _run(seed: int) -> dict[str, dict]:
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", KERNELS, str(seed)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {row["case"]: row for row in rows}


@pytest.fixture(scope="module")
def runs() -> list[dict[str, dict]]:
    return [_run(seed) for seed in range(3)]


RACY = ["total_plain", "atomic_then_plain_read", "warp_tree_unsynced"]
CLEAN = ["total_atomic", "same_flag", "read_shared_input", "warp_tree"]


@pytest.mark.parametrize("case", RACY)
def test_a_race_is_reported_on_every_run(runs, case):
    for run in runs:
        assert run[case]["raised"] == "RaceError", run[case]


@pytest.mark.parametrize("case", CLEAN)
def test_race_free_kernels_are_never_reported(runs, case):
    for run in runs:
        assert run[case]["raised"] is None, run[case]


def test_a_race_between_blocks_names_array_element_threads_lines_and_kind(runs):
    message = runs[0]["total_plain"]["message"]
    assert "data race (read/write) on out[0] (global memory) in kernel total_plain" in message
    assert "block 0 thread 0 wrote it at line" in message and "thread 0 read it at line" in message
    assert "in different blocks" in message


def test_a_race_inside_a_block_says_no_barrier_separates_the_accesses(runs):
    message = runs[0]["warp_tree_unsynced"]["message"]
    assert "(shared memory)" in message and "sm[" in message and "no barrier" in message


def test_every_block_gets_fresh_poisoned_shared_memory(runs):
    first, second = runs[0]["shared_left_over"]["result"]
    assert first == 7.0
    assert second != second  # NaN: block 1 never wrote the slot (numba's simulator would hand it 7.0)


def test_warp_intrinsics_follow_a_32_lane_warp(runs):
    got = runs[0]["intrinsics"]["result"]
    nan = float("nan")
    for t, row in enumerate(got):
        lane, base, warp_size = t % 32, t // 32 * 32, 32 if t < 32 else 16  # 48 threads: the second warp is partial
        expect_down = float(t + 3) if lane + 3 < warp_size else (float(t) if lane + 3 >= 32 else nan)
        assert row[0] == expect_down or (expect_down != expect_down and row[0] != row[0]), (t, row[0])
        assert row[1] == (float(t - 5) if lane >= 5 else float(t))
        assert row[2] == float(base + (lane ^ 1))
        assert row[3] == float(base + 2)
        assert row[4] == sum(1 << k for k in range(warp_size) if (base + k) % 3 == 0)
        assert row[5] == (1 if base == 32 else 0)
        assert row[6] == (1 if base == 0 else 0)
        assert row[7] == 1
        assert row[8] == sum(1 << k for k in range(warp_size) if k % 4 == lane % 4)
        assert row[9] == (1 << warp_size) - 1
        assert row[10] == (1 << lane) - 1


@pytest.mark.parametrize(("case", "words"), [("divergent_ops", "divergent warp"), ("shuffle_against_barrier", "syncthreads")])
def test_warp_operations_that_would_hang_on_a_gpu_fail_with_a_reason(runs, case, words):
    row = runs[0][case]
    assert row["raised"] == "WarpError" and words in row["message"], row


def test_a_thread_spinning_on_an_atomic_lets_the_others_run(runs):
    """Simulated threads take turns (greenlets, not OS threads): one that waits for a flag another
    thread of its block sets later must not keep that thread from ever running."""
    for run in runs:
        assert run["waits_for_a_later_thread"]["raised"] is None, run["waits_for_a_later_thread"]
        assert run["waits_for_a_later_thread"]["result"] == [1]


@pytest.mark.parametrize("how", ["stream", "auto", "device", "default stream copy"])
def test_a_copy_on_a_stream_lands_once_the_program_synchronizes(runs, how):
    assert runs[0][f"stream {how}"]["result"] == [0.0, 2.0, 4.0, 6.0]


def test_results_read_before_synchronizing_are_poison(runs):
    assert all(v != v for v in runs[0]["stream none"]["result"])  # NaN: the copy has not landed
