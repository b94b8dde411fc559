"""The class report for TAs: one self-contained HTML file with matplotlib plots embedded as PNG.

Plots: the distribution of final scores; per performance rubric line, the distribution of measured
speedups with the target and floor applied marked; correctness against performance points.
Below them, one row per student (flags and failures are staff-only, so they are listed too).
"""

from __future__ import annotations

import base64
import html
import io
import statistics

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from ..classroom.records import StudentResult  # noqa: E402
from ..core.course import Assignment  # noqa: E402
from ..core.results import Status  # noqa: E402


def _png(fig) -> str:
    for ax in fig.axes:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of students
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _score_histogram(assignment: Assignment, results: list[StudentResult]) -> str:
    fig, ax = plt.subplots(figsize=(6, 3.2))
    finals = [r.final for r in results]
    top = assignment.spec.max_score
    ax.hist(finals, bins=min(20, max(5, int(top) + 1)), range=(0, top), color="#4C72B0", edgecolor="white")
    ax.set_xlabel(f"final points (of {top:g})")
    ax.set_ylabel("students")
    ax.set_title("Score distribution")
    return _png(fig)


def _speedup_plots(results: list[StudentResult]) -> list[tuple[str, str]]:
    by_line: dict[str, list[tuple[float, float | None, float | None]]] = {}
    for r in results:
        for t in r.report.tests:
            if t.kind == "performance" and t.status is not Status.deferred and "speedup" in t.metrics:
                by_line.setdefault(f"{t.task}.{t.part}", []).append(
                    (float(t.metrics["speedup"]), t.metrics.get("target"), t.metrics.get("floor"))
                )
    plots = []
    for line, values in sorted(by_line.items()):
        fig, ax = plt.subplots(figsize=(6, 3.2))
        speedups = [v[0] for v in values]
        ax.hist(speedups, bins=20, color="#55A868", edgecolor="white")
        targets = [v[1] for v in values if v[1] is not None]
        floors = [v[2] for v in values if v[2] is not None]
        if targets:
            ax.axvline(
                statistics.median(targets),
                color="#C44E52",
                linestyle="--",
                label=f"target (median) {statistics.median(targets):.2f}×",
            )
        if floors:
            ax.axvline(statistics.median(floors), color="#8172B2", linestyle=":", label=f"floor {statistics.median(floors):.2f}×")
        ax.set_xlabel("measured speedup over the serial baseline (×)")
        ax.set_ylabel("students")
        ax.set_title(f"{line}: speedup ({len(values)} measured)")
        if targets or floors:
            ax.legend(fontsize=8)
        plots.append((f"Speedup, {line}", _png(fig)))
    return plots


def _correctness_vs_performance(results: list[StudentResult]) -> str:
    fig, ax = plt.subplots(figsize=(5, 4))
    xs = [sum(t.score for t in r.report.tests if t.kind == "correctness") for r in results]
    ys = [sum(t.score for t in r.report.tests if t.kind == "performance") for r in results]
    ax.scatter(xs, ys, alpha=0.6, color="#4C72B0")
    tops = {}
    for kind in ("correctness", "performance"):
        tops[kind] = max((sum(t.max_score for t in r.report.tests if t.kind == kind) for r in results), default=0.0)
    ax.set_xlim(-0.5, max(tops["correctness"], 1.0) + 0.5)  # whole axes, even when nothing was timed
    ax.set_ylim(-0.5, max(tops["performance"], 1.0) + 0.5)
    ax.set_xlabel("correctness points")
    ax.set_ylabel("performance points")
    ax.set_title("Correctness vs performance")
    return _png(fig)


def class_report(assignment: Assignment, results: list[StudentResult], *, failures: list[str] | None = None) -> str:
    finals = [r.final for r in results if r.submission.status == "ok"]
    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(assignment.id)} class report</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
        "th{background:#f3f3f3}.plots{display:flex;flex-wrap:wrap}.plots img{margin:0 1em 1em 0;border:1px solid #eee}"
        ".flag{color:#b00}</style></head><body>",
        f"<h1>{esc(assignment.spec.title)} ({esc(assignment.id)})</h1>",
        f"<p>{len(results)} students, {len(finals)} graded · mean {statistics.mean(finals) if finals else 0:.2f}"
        f" · median {statistics.median(finals) if finals else 0:.2f} of {assignment.spec.max_score:g} points</p>",
        "<div class='plots'>",
        f"<img alt='Score distribution' src='data:image/png;base64,{_score_histogram(assignment, results)}'>",
    ]
    plots = _speedup_plots(results)
    for title, png in plots:
        parts.append(f"<img alt='{esc(title)}' src='data:image/png;base64,{png}'>")
    parts.append(f"<img alt='Correctness vs performance' src='data:image/png;base64,{_correctness_vs_performance(results)}'>")
    parts.append("</div>")
    if not plots:
        parts.append(
            "<p>No speedup plot: no speed line was judged on this machine (every one is pending: no GPU, or "
            "the CPU too busy). They appear once the pending lines are graded (see the end of grade-all's output).</p>"
        )
    parts.append("<h2>Students</h2><table><tr>")
    cols = ["student", "name", "status", "commit", "late (h)", "points", "penalty", "final", "pending", "flags"]
    parts += [f"<th>{c}</th>" for c in cols] + ["</tr>"]
    for r in results:
        sub, rep = r.submission, r.report
        flags = "<br>".join(esc(f[:160]) for f in (*rep.errors, *rep.flags))  # a missing module is an error
        status = sub.status if sub.status != "ok" else ("graded" if r.complete else "incomplete")
        cells = [
            f"<a href='feedback/{esc(sub.student_id)}.md'>{esc(sub.student_id)}</a>", esc(sub.name), esc(status),
            f"<code>{esc(sub.sha[:10])}</code>", f"{sub.late_seconds / 3600:.1f}", f"{r.points:g}", f"{sub.penalty:.0%}",
            f"<b>{r.final:g}</b>", f"{rep.deferred_points:g}", f"<span class='flag'>{flags}</span>",
        ]  # fmt: skip
        parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    parts.append("</table>")
    if failures:
        parts.append("<h2>Gradings that failed</h2><ul>" + "".join(f"<li>{esc(f)}</li>" for f in failures) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)
