"""Does a CPU speed line reward parallelism, not serial tuning, and judge every correct parallel style alike?

    python benchmarks/parallel_credit.py --runs 10              # a3 blur
    python benchmarks/parallel_credit.py --runs 10 --assignment a1

Grades one CPU speed line N times for each of four submissions, one after the other in every
run (so all four see the same moments of the machine):

- reference: the staff solution (prange);
- serial: the serial reference under the parallel name (tests/wrong/.../serial_*_cpu.py);
- serially tuned: a serial loop faster than the staff baseline (tests/wrong/.../*serial*tuned*,
  *recurrence*);
- threads: a correct parallel version with explicit Python threads over bands of the work, a
  numba ``nogil`` kernel per band (defined below).

and prints, side by side, per submission: B/C (over the staff baseline), C1/C (over itself
pinned to one core), the graded speedup min(C1/C, B/C), the verdicts and points, and the machine
capacity. Targets: the reference and the threads candidate are never failed and never partial
when the machine could judge them; both impostors never earn a point.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.core.course import Course  # noqa: E402
from grader.core.results import Status  # noqa: E402
from grader.run.grade import GradingError, grade_submission  # noqa: E402

WRONG = ROOT / "tests" / "wrong"

THREADS_A3 = """
import threading as _threading


@njit(nogil=True)
def _blur_band(image, out, lo, hi):
    rows, cols = image.shape
    for i in range(lo, hi):
        up = image[max(i - 1, 0)]
        mid = image[i]
        down = image[min(i + 1, rows - 1)]
        dst = out[i]
        for j in range(cols):
            left = max(j - 1, 0)
            right = min(j + 1, cols - 1)
            acc = up[left] + 2.0 * up[j] + up[right]
            acc += 2.0 * mid[left] + 4.0 * mid[j] + 2.0 * mid[right]
            acc += down[left] + 2.0 * down[j] + down[right]
            dst[j] = acc / 16.0


def blur_cpu(image, out):
    import os

    rows = image.shape[0]
    n = max(1, len(os.sched_getaffinity(0)))
    bounds = [rows * k // n for k in range(n + 1)]
    threads = [_threading.Thread(target=_blur_band, args=(image, out, bounds[k], bounds[k + 1])) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
"""

THREADS_A1 = """
import threading as _threading


@njit(nogil=True)
def _fourier_band(x, terms, out, lo, hi):
    for i in range(lo, hi):
        out[i] = _square_wave(x[i], terms)


def fourier_cpu(x, terms):
    import os

    out = np.empty_like(x)
    n = max(1, len(os.sched_getaffinity(0)))
    bounds = [x.shape[0] * k // n for k in range(n + 1)]
    threads = [_threading.Thread(target=_fourier_band, args=(x, terms, out, bounds[k], bounds[k + 1])) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out
"""

CASES = {  # assignment: (speed line, serial impostor, serially tuned impostor, threads candidate)
    "a3_stencil": ("blur.cpu.performance", "a3_stencil/serial_blur_cpu.py", "a3_stencil/serial_tuned_blur_cpu.py", THREADS_A3),
    "a1_speedup": ("fourier.cpu.performance", None, "a1_speedup/recurrence_serial_fourier_cpu.py", THREADS_A1),
}
SERIAL_A1 = "# the serial reference under the parallel name\nfourier_cpu = fourier_serial\n"


def submissions(a, where: Path) -> dict[str, Path]:
    line, serial, tuned, threads = CASES[a.id]
    solution = (a.solution_dir / f"{a.spec.module}.py").read_text()
    extra = {
        "serial": (WRONG / serial).read_text() if serial else SERIAL_A1,
        "serially tuned": (WRONG / tuned).read_text(),
        "threads": threads,
    }
    out = {"reference": a.solution_dir}
    for label, text in extra.items():
        folder = where / label.replace(" ", "_")
        folder.mkdir()
        (folder / f"{a.spec.module}.py").write_text(solution + "\n\n" + text)
        out[label] = folder
    return out


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def spread(values: list[float]) -> str:
    if not values:
        return "–"
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="gradings per submission (default 10)")
    parser.add_argument("--assignment", default="a3", help="a3 (default) or a1")
    parser.add_argument("--trusted", action="store_true", help="grade with hidden tests and the reference timed alongside")
    args = parser.parse_args()

    console = Console(width=160)
    a = Course(ROOT).resolve(args.assignment)
    if a.id not in CASES:
        parser.error(f"no candidates for {a.id}; choose one of {', '.join(CASES)}")
    line = CASES[a.id][0]
    start_load = loadavg()
    console.print(f"{a.id} {line}: {args.runs} gradings each, {os.cpu_count()} CPUs, load average at start {start_load}")
    results: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        subs = submissions(a, Path(tmp))
        for i in range(args.runs):
            for label, folder in subs.items():
                t0 = time.monotonic()
                for attempt in range(3):  # a checkout others edit meanwhile voids a grading: grade again
                    try:
                        report = grade_submission(a, folder, hidden=args.trusted, gpu="none", select=[line])
                        break
                    except GradingError as exc:
                        console.print(f"grading {label} again ({exc})")
                        time.sleep(5 * (attempt + 1))
                else:
                    continue
                wall = time.monotonic() - t0
                test = next(t for t in report.tests if t.kind == "performance")
                results.setdefault(label, []).append((test, wall))
                console.print(
                    f"{i + 1:>3}/{args.runs} {label:>14} {test.status.value:>8} {test.score:.2f}/{test.max_score:g}  "
                    f"{test.message[:110]}  [load {loadavg()}]"
                )
    end_load = loadavg()

    table = Table(title=f"{a.id} {line}, {args.runs} gradings each (load average {start_load} at start, {end_load} at end)")
    for col in (
        "submission",
        "passed",
        "partial",
        "failed",
        "deferred",
        "points mean",
        "B/C min/med/max",
        "C1/C min/med/max",
        "graded min/med/max",
        "capacity med",
        "perf s med/max",
    ):
        table.add_column(col)
    verdicts = []
    for label, rows in results.items():
        tests = [t for t, _ in rows]
        count = {s: sum(t.status == s for t in tests) for s in Status}
        bad = count[Status.failed] + count[Status.error] + count[Status.timeout]
        m = [t.metrics for t in tests if "speedup" in t.metrics]
        caps = [x["capacity"] for x in m if x.get("capacity")]
        table.add_row(
            label,
            str(count[Status.passed]),
            str(count[Status.partial]),
            str(bad),
            str(count[Status.deferred]),
            f"{statistics.mean(t.score for t in tests):.2f}/{tests[0].max_score:g}",
            spread([x["baseline_speedup"] for x in m if "baseline_speedup" in x]),
            spread([x["self_speedup"] for x in m if "self_speedup" in x]),
            spread([x["speedup"] for x in m]),
            f"{statistics.median(caps):.2f}" if caps else "–",
            f"{statistics.median(t.duration for t in tests):.1f} / {max(t.duration for t in tests):.1f}",
        )
        if label in ("reference", "threads"):
            verdicts.append((f"{label}: never failed or partial when judged", bad == 0 and count[Status.partial] == 0))
        else:
            verdicts.append((f"{label}: never earns a point", all(t.score == 0 for t in tests)))
        verdicts.append(
            (f"{label}: speed test <= 15 s (max {max(t.duration for t in tests):.1f} s)", max(t.duration for t in tests) <= 15)
        )
    console.print(table)
    for text, ok in verdicts:
        console.print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
