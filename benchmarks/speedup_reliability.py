"""Is the speedup grade trustworthy? Grade a reference and a serial impostor many times, idle and loaded.

    python benchmarks/speedup_reliability.py --runs 20

For each condition (idle; one core kept busy by a background process this script starts and
stops) and each submission (the reference solution; the solution with its parallel loops made
serial), grade the CPU performance tests N times and print: passed / partial / failed / deferred
counts, speedup min / median / max, machine capacity, efficiency (speedup / capacity, round by
round) and seconds per grading. Then check the
targets: the reference is never failed (idle or loaded) and never deferred when idle; the impostor
never passes; idle speedup spread max/min <= 1.15; the performance phase <= 15 s per task.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.core.course import Course  # noqa: E402
from grader.core.results import Status  # noqa: E402
from grader.run.grade import grade_submission  # noqa: E402


def _spin() -> None:
    while True:
        pass


@contextmanager
def one_core_busy(enabled: bool):
    """A neighbour that keeps one core busy for as long as the block runs."""
    if not enabled:
        yield
        return
    proc = multiprocessing.get_context("spawn").Process(target=_spin, daemon=True)
    proc.start()
    try:
        yield
    finally:
        proc.kill()
        proc.join()


def make_impostor(solution: Path, module: str, where: Path) -> Path:
    """The reference solution with every prange turned into range: correct, and serial."""
    folder = where / "impostor"
    folder.mkdir()
    text = (solution / f"{module}.py").read_text().replace("prange(", "range(")
    (folder / f"{module}.py").write_text(text)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="gradings per submission and condition (default 20)")
    parser.add_argument("--assignment", default="a1")
    parser.add_argument("--select", default="*.cpu.performance", help="rubric lines to grade")
    parser.add_argument("--trusted", action="store_true", help="grade with hidden tests and the reference timed alongside")
    args = parser.parse_args()

    console = Console(width=140)
    a = Course(ROOT).resolve(args.assignment)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        subs = {"reference": a.solution_dir, "impostor": make_impostor(a.solution_dir, a.spec.module, Path(tmp))}
        for condition in ("idle", "one core busy"):
            with one_core_busy(condition != "idle"):
                for label, folder in subs.items():
                    results = []
                    for i in range(args.runs):
                        t0 = time.monotonic()
                        report = grade_submission(a, folder, hidden=args.trusted, gpu="none", select=[args.select])
                        wall = time.monotonic() - t0
                        for t in report.tests:
                            if t.kind == "performance":
                                results.append((t, wall))
                        last = results[-1][0]
                        console.print(f"{condition:>14} {label:>9} {i + 1:>3}/{args.runs} {last.status.value:>8} {last.message}")
                    rows.append((condition, label, results))

    table = Table(title=f"{a.id}: {args.select}, {args.runs} gradings each", show_edge=False)
    for col in (
        "condition",
        "submission",
        "passed",
        "partial",
        "failed",
        "deferred",
        "speedup min/median/max",
        "capacity min/median/max",
        "efficiency min/median/max",
        "perf s median/max",
        "grading s",
    ):
        table.add_column(col)
    verdicts = []
    for condition, label, results in rows:
        statuses = [t.status for t, _ in results]
        speedups = [t.metrics["speedup"] for t, _ in results if "speedup" in t.metrics]
        caps = [t.metrics["capacity"] for t, _ in results if t.metrics.get("capacity")]
        effs = [t.metrics["efficiency"] for t, _ in results if t.metrics.get("efficiency")]
        perf_s = [t.duration for t, _ in results]
        count = {s: statuses.count(s) for s in Status}
        bad = count[Status.failed] + count[Status.error] + count[Status.timeout]
        spread = f"{min(speedups):.2f} / {statistics.median(speedups):.2f} / {max(speedups):.2f}" if speedups else "–"
        table.add_row(
            condition, label,
            str(count[Status.passed]), str(count[Status.partial]), str(bad), str(count[Status.deferred]),
            spread, f"{min(caps):.2f} / {statistics.median(caps):.2f} / {max(caps):.2f}" if caps else "–",
            f"{min(effs):.2f} / {statistics.median(effs):.2f} / {max(effs):.2f}" if effs else "–",
            f"{statistics.median(perf_s):.1f} / {max(perf_s):.1f}", f"{statistics.median(w for _, w in results):.1f}",
        )  # fmt: skip
        if label == "reference":
            verdicts.append((f"reference never failed ({condition})", bad == 0 and count[Status.partial] == 0))
            if condition == "idle":
                verdicts.append(("reference never deferred when idle", count[Status.deferred] == 0))
                if speedups:
                    verdicts.append(
                        (
                            f"idle speedup spread max/min = {max(speedups) / min(speedups):.3f} <= 1.15",
                            max(speedups) / min(speedups) <= 1.15,
                        )
                    )
                if effs:
                    ratio = max(effs) / min(effs)
                    console.print(f"(for comparison: idle efficiency spread max/min = {ratio:.3f})")
        else:
            verdicts.append((f"impostor never passes ({condition})", count[Status.passed] == 0 and count[Status.partial] == 0))
        verdicts.append((f"performance phase <= 15 s ({condition}, {label}): max {max(perf_s):.1f} s", max(perf_s) <= 15))
    console.print(table)
    for text, ok in verdicts:
        console.print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
