"""The Markdown summary a student reads on the Actions run page ($GITHUB_STEP_SUMMARY) or in a file."""

from __future__ import annotations

from ..core.results import GradeReport, Status
from .terminal import KIND_LABEL

ICON = {"passed": "✅", "partial": "🟡", "failed": "❌", "error": "❌", "timeout": "⏱️", "pending": "⏸️"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary(report: GradeReport) -> str:
    """Per-rubric-line points, measured speedups, and one line per problem to fix (always the student view)."""
    report = report.for_students()
    which = "public and hidden tests" if report.visibility == "all" else "public tests"
    lines = [
        f"## {report.assignment} · {report.title}",
        "",
        f"**{report.score:g} / {report.gradable_max:g} points** on the {which} this machine could judge"
        + (f" ({report.deferred_points:g} more pending: graded later)" if report.deferred_points else "")
        + f" · {report.machine.describe()}"
        + (f" · isolation: {report.isolation}" if report.isolation else ""),
        "",
        "| task | part | check | status | points | detail |",
        "|---|---|---|---|---|---|",
    ]
    for lr in report.lines():
        task, part, kind = lr.line
        points = f"–/{lr.max_score:g}" if lr.pending else f"{lr.score:.1f}/{lr.max_score:g}"
        detail = lr.detail.splitlines()[0] if lr.detail else ""
        lines.append(
            f"| {task} | {part if part != 'python' else '—'} | {KIND_LABEL.get(kind, kind)} | {ICON.get(lr.status, '')} "
            f"{lr.status} | {points} | {_cell(detail)[:300]} |"
        )
    todo = [t for t in report.tests if t.status in (Status.failed, Status.error, Status.timeout, Status.partial)]
    if report.errors or todo:
        lines += ["", "### What to fix", ""]
        lines += [f"- {_cell(e)}" for e in report.errors]
        for t in todo:
            first = t.message.splitlines()[0] if t.message else t.status.value
            lines.append(f"- `{t.name}` ({t.task}.{t.part}, {t.status.value}): {_cell(first)[:400]}")
    deferred = [t for t in report.tests if t.status is Status.deferred]
    if deferred:
        lines += ["", "### Pending (graded later, elsewhere)", ""]
        lines += [f"- `{t.name}`: {_cell(t.message)[:300]}" for t in deferred]
    return "\n".join(lines) + "\n"
