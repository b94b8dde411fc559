"""Does setting aside the rounds the VM's host took change verdicts, spread or time? One speed line
timed again and again in this process, alternating the rule (`timing.STEAL_LIMIT`) with counting
every round as before.

    python benchmarks/host_steal.py [--line a1|a5] [--runs 6]
    python benchmarks/host_steal.py --rounds [--line a1] [--runs 6]

The line is a public CPU speed line as `grader test` times it (its baseline, the staff probe, the
one-core timing, the same stopping rules), for the staff solution and for a serial impostor (the
solution with every prange made a range; a5's pipeline has none, so its impostor is the stages
run one after the other in the candidate's place). Per rule and submission it prints the verdicts,
the graded speedup's median and spread, the interval's width, rounds kept and set aside, the share
of CPU time the host took, and seconds per line. Run it on an otherwise idle machine; the host's
share is what this VM's neighbours did meanwhile, reported, not chosen.

--rounds: the evidence behind the limit. The solution's line timed with every round counted (no
early stop), each round's ratios grouped by the share of its CPU time the host took.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.core.course import Course  # noqa: E402
from grader.worker import speed, speed_verdict, timing  # noqa: E402
from grader.worker.calibration import ComputeProbe  # noqa: E402

RULES = {"set aside": timing.STEAL_LIMIT, "counted": float("inf")}


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def a1_line(tmp: Path):
    a = Course(ROOT).resolve("a1")
    perf = a.spec.part("fourier", "cpu").performance
    terms = perf.params["terms"]
    course = load("course_a1", a.stub_module)
    text = a.solution_module.read_text()
    (tmp / "impostor_a1.py").write_text(text.replace("prange(", "range("))
    subs = {"solution": load("solution_a1", a.solution_module), "serial impostor": load("impostor_a1", tmp / "impostor_a1.py")}
    rng = np.random.default_rng(0)
    inputs = [rng.uniform(-np.pi, np.pi, perf.size) for _ in range(3)]
    return (
        perf,
        lambda x: course.fourier_serial(x, terms),
        {k: (lambda x, m=m: m.fourier_cpu(x, terms)) for k, m in subs.items()},
        inputs,
    )


def a5_line(tmp: Path):
    a = Course(ROOT).resolve("a5")
    perf = a.spec.part("pipeline", "cpu").performance
    count, maxsize = perf.params["chunks"], perf.params["maxsize"]
    course = load("course_a5", a.stub_module)
    solution = load("solution_a5", a.solution_module)
    stages = (course.load_chunk, course.transform_chunk, course.reduce_chunk)

    def serial(rows):
        return np.asarray(course.pipeline_serial(list(rows), *stages))

    subs = {
        "solution": lambda rows: np.asarray(solution.pipeline_cpu(list(rows), *stages, maxsize), dtype=np.float64),
        "serial impostor": lambda rows: np.asarray(solution.pipeline_serial(list(rows), *stages)),
    }
    inputs = [np.random.default_rng(s).uniform(-3.0, 3.0, (count, perf.size // count)) for s in range(2)]
    return perf, serial, subs, inputs


def check(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def time_line(baseline, candidate, inputs, **stopping):
    """One speed line's measurement as the worker takes it: probe, one-core timing, these stopping rules."""
    return timing.measure(
        baseline, candidate, inputs, check, probe=ComputeProbe(), one_core=timing.pinned_to_one_core, **stopping
    )


def round_shares(perf, baseline, candidate, inputs, runs: int) -> None:
    """Per-round ratios by the host's share of the round's CPU time (every round counted)."""
    timing.STEAL_LIMIT = float("inf")
    rows = []
    for _ in range(runs):
        m = time_line(baseline, candidate, inputs, min_rounds=20, max_rounds=20)
        for r in m.rounds:
            steps = r.baseline + r.candidate + r.single_core + r.probe_serial + r.probe_parallel + r.probe_serial_pinned
            rows.append((r.host_ticks / timing._CLOCK_TICKS / (steps * 2), r.baseline_speedup, r.self_speedup, r.capacity))
        print(f"  {len(rows)} rounds so far", flush=True)

    def q(values):
        v = sorted(values)
        return f"{statistics.median(v):.2f} ({v[len(v) // 10]:.2f}-{v[-1 - len(v) // 10]:.2f})"

    print("\n| host's share of the round | rounds | B/C median (10-90 %) | C1/C | capacity Ks/Kp |")
    print("|---|---|---|---|---|")
    for low, high in ((0, 0), (0, 0.03), (0.03, 0.10), (0.10, 1.01)):
        group = [r for r in rows if (r[0] == 0 if high == 0 else low < r[0] <= high)]
        if group:
            label = "0" if high == 0 else f"{low:.0%}-{high:.0%}" if high <= 1 else f"over {low:.0%}"
            print(f"| {label} | {len(group)} | {q(r[1] for r in group)} | {q(r[2] for r in group)} | {q(r[3] for r in group)} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--line", choices=("a1", "a5"), default="a1")
    parser.add_argument("--runs", type=int, default=6, help="gradings per submission and rule")
    parser.add_argument("--rounds", action="store_true", help="per-round ratios by the host's share instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        perf, baseline, subs, inputs = (a1_line if args.line == "a1" else a5_line)(Path(tmp))
        if args.rounds:
            round_shares(perf, baseline, subs["solution"], inputs, args.runs)
            return 0
        cores = 2
        results: dict[tuple[str, str], list[tuple]] = {}
        for run in range(args.runs):
            for sub, candidate in subs.items():
                order = list(RULES) if run % 2 == 0 else list(reversed(RULES))
                for rule in order:
                    timing.STEAL_LIMIT = RULES[rule]
                    t0 = time.perf_counter()
                    m = time_line(baseline, candidate, inputs, **speed._stopping(perf, cores))
                    seconds = time.perf_counter() - t0
                    d = speed_verdict.decide_cpu(perf, cores, m)
                    verdict = (
                        "deferred"
                        if d.verdict == "deferred"
                        else ("passed" if d.credit >= 1 else "failed" if d.credit <= 0 else "partial")
                    )
                    low, high = m.interval
                    row = (
                        verdict,
                        d.credit,
                        m.speedup if m.rounds else None,
                        (high - low) / m.speedup if m.rounds else None,
                        len(m.rounds),
                        m.set_aside,
                        m.host_steal,
                        seconds,
                    )
                    results.setdefault((sub, rule), []).append(row)
                    speedup = f"{m.speedup:.2f}× ({low:.2f}-{high:.2f})" if m.rounds else "-"
                    print(
                        f"run {run} {sub:15} {rule:9}: {verdict:8} {speedup:20} rounds {len(m.rounds):2} set aside "
                        f"{m.set_aside:2} host {m.host_steal or 0:.1%} {seconds:5.1f} s  {d.message[:90]}",
                        flush=True,
                    )
        timing.STEAL_LIMIT = RULES["set aside"]

    def spread(values):
        v = sorted(x for x in values if x is not None)
        return f"{v[0]:.2f} / {statistics.median(v):.2f} / {v[-1]:.2f}" if v else "-"

    print(f"\n{args.line}: {args.runs} gradings per submission and rule, alternating; medians unless named\n")
    print(
        "| submission | rule | verdicts | speedup min / median / max | interval width / speedup | rounds kept "
        "| rounds set aside (total) | host's share of CPU time | s per line |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for (sub, rule), rows in results.items():
        verdicts = ", ".join(f"{n} {v}" for v, n in Counter(r[0] for r in rows).most_common())
        widths = [r[3] for r in rows if r[3] is not None]
        print(
            f"| {sub} | {rule} | {verdicts} | {spread(r[2] for r in rows)} | "
            f"{statistics.median(widths) if widths else float('nan'):.0%} | {statistics.median(r[4] for r in rows):.0f} | "
            f"{sum(r[5] for r in rows)} | {statistics.median(r[6] or 0 for r in rows):.1%} | "
            f"{statistics.median(r[7] for r in rows):.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
