"""The table students and TAs read in a terminal: one row per rubric line, then what to fix."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..core.results import GradeReport, Status
from ..run.isolation import warning as isolation_warning

STATUS_STYLE = {
    "passed": "green",
    "partial": "yellow",
    "failed": "red",
    "error": "red",
    "timeout": "red",
    "deferred": "cyan",
    "pending": "cyan",
}
KIND_LABEL = {"correctness": "correctness", "performance": "speedup"}


def _points(score: float, max_score: float, deferred: bool) -> str:
    return f"–/{max_score:g}" if deferred else f"{score:.1f}/{max_score:g}"


def shown_status(status: Status) -> str:
    """The word a person reads: a test that could not be judged here is *pending*."""
    return "pending" if status is Status.deferred else status.value


def render(report: GradeReport, console: Console, *, verbose: bool = False) -> None:
    kind = "all tests" if report.visibility == "all" else "public tests"
    console.print(
        Text.assemble(
            (f"{report.assignment}", "bold"),
            f" · {report.title} · {kind} · submission {report.submission}",
        )
    )
    console.print(Text(report.machine.describe(), style="dim"))
    if report.isolation.startswith("reduced") and report.visibility == "all":  # a grade from code that could reach out
        console.print(Text(isolation_warning(report.isolation.split(": ", 1)[-1]), style="bold yellow"))
    elif report.isolation:
        console.print(Text(f"isolation: {report.isolation}", style="dim"))
    for err in report.errors:
        console.print(Text(f"! {err}", style="bold red"))
    for flag in report.flags:
        console.print(Text(f"⚑ {flag}", style="yellow"))
    table = Table(show_edge=False, pad_edge=False, expand=False)
    for col in ("task", "part", "check", "status", "points", "detail"):
        table.add_column(col, justify="right" if col == "points" else "left", overflow="fold")
    for lr in report.lines():
        task, part, kind_ = lr.line
        table.add_row(
            task,
            "—" if part == "python" else part,
            KIND_LABEL.get(kind_, kind_),
            Text(lr.status, style=STATUS_STYLE.get(lr.status, "")),
            _points(lr.score, lr.max_score, lr.pending),
            lr.detail,
        )
        if verbose:
            for r in lr.records:
                label = f"· {r.name}" + (" (hidden)" if r.visibility == "hidden" else "")
                table.add_row(
                    "", "", "", Text(shown_status(r.status), style=STATUS_STYLE[r.status.value]),
                    _points(r.score, r.max_score, r.status is Status.deferred),
                    Text(f"{label}: {r.message}" if r.message else label, style="dim"),
                )  # fmt: skip
    deferred = f" (+{report.deferred_points:g} pending)" if report.deferred_points else ""
    table.add_section()
    table.add_row("total", "", "", "", Text(f"{report.score:.1f}/{report.gradable_max:g}", style="bold"), deferred)
    console.print(table)
