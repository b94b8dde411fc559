"""Combine gradings of one submission made on different machines: CI without a GPU, the TA's GPU box.

Each test's record is taken from one run, by this rule (first that decides):

1. a run that judged the test beats one that deferred it (the GPU speed test from the GPU machine);
2. for a GPU part, a run on a real GPU (`cuda`) beats one on the simulator;
3. the more recent run (`graded_at`) wins; runs without a time count as oldest, and between equals
   the one named later on the command line wins.

Every merged record carries its provenance (file, host, GPU backend, when), so a TA can see where
each number came from. Runs of different assignments are refused; that the runs graded the same
code is the caller's word (paths differ between machines), so compare commit SHAs before merging.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..core.results import GradeReport, Status, TestRecord


class MergeError(Exception):
    """The runs cannot be merged; the message says why."""


def _key(t: TestRecord) -> tuple[str, ...]:
    return (t.nodeid,) if t.nodeid else (t.task, t.part, t.kind, t.name)


def _rank(t: TestRecord, run: GradeReport, position: int) -> tuple:
    judged = t.status is not Status.deferred
    real_gpu = t.part == "gpu" and run.machine.gpu == "cuda"
    return (judged, real_gpu, run.graded_at or "", position)


def merge_reports(runs: list[tuple[str, GradeReport]]) -> GradeReport:
    """Merge ``(source label, report)`` pairs; see the module docstring for the rule."""
    if not runs:
        raise MergeError("nothing to merge")
    assignments = {r.assignment for _, r in runs}
    if len(assignments) > 1:
        raise MergeError(f"these results are for different assignments: {', '.join(sorted(assignments))}")
    order: list[tuple[str, ...]] = []
    best: dict[tuple[str, ...], tuple[tuple, TestRecord, str, GradeReport]] = {}
    for position, (source, run) in enumerate(runs):
        for t in run.tests:
            key = _key(t)
            if key not in best:
                order.append(key)
            rank = _rank(t, run, position)
            if key not in best or rank > best[key][0]:
                best[key] = (rank, t, source, run)
    tests = []
    for key in order:
        _, t, source, run = best[key]
        provenance = {"source": source, "host": run.machine.hostname, "gpu": run.machine.gpu, "graded_at": run.graded_at}
        tests.append(replace(t, provenance=provenance))
    newest = max(runs, key=lambda pair: pair[1].graded_at or "")[1]
    gpu_run = next((r for _, r in runs if r.machine.gpu == "cuda"), None)
    return replace(
        newest,
        machine=(gpu_run or newest).machine,
        tests=tuple(tests),
        visibility="all" if any(r.visibility == "all" for _, r in runs) else "public",
        errors=tuple(dict.fromkeys(e for _, r in runs for e in r.errors)),
        flags=tuple(dict.fromkeys(f for _, r in runs for f in r.flags)),
        duration=round(sum(r.duration for _, r in runs), 3),
    )


def merge_files(paths: list[Path]) -> GradeReport:
    runs = []
    for path in paths:
        try:
            runs.append((str(path), GradeReport.read_json(path)))
        except FileNotFoundError:
            raise MergeError(f"{path} does not exist") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise MergeError(f"{path} is not a grader results file ({type(exc).__name__}: {exc})") from None
    return merge_reports(runs)
