"""Fill a class's pending lines from the same class graded on another machine (a GPU box).

Per student and phase, by `grader merge`'s rule (`classroom.merge`); a different commit is skipped
and listed, another test suite or assignment is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.course import Assignment
from ..core.results import GradeReport
from .collect import BatchError, load_submissions, write_json_atomic
from .grade_all import _cache_path, _read_cache, phases_of, suite_version, write_result
from .merge import MergeError, merge_reports


@dataclass
class MergeStats:
    merged: list[str] = field(default_factory=list)  # student ids whose results took something from the other folder
    skipped: list[str] = field(default_factory=list)  # why a student's results could not be merged


def merge_class(assignment: Assignment, folder: Path, other: Path) -> MergeStats:
    """Fill this class's results from another grading of the same commits (a GPU machine's folder).

    Per student and phase, `grader merge`'s rule picks each test's record (judged beats pending, a
    real GPU beats the simulator, then the newer run) and keeps its provenance. Refused per student
    when the commits differ, and for the whole folder when it was collected for another assignment
    or graded with another test suite.
    """
    folder, other = Path(folder), Path(other)
    mine = {s.student_id: s for s in load_submissions(folder, assignment.id)}
    theirs = {s.student_id: s for s in load_submissions(other, assignment.id)}
    suite = suite_version(assignment)
    phases = phases_of(assignment)
    stats = MergeStats()
    parts: dict[str, dict[str, GradeReport]] = {}  # per student and phase: what result.json is written from
    for sid, sub in mine.items():
        here_all = {phase: _read_cache(_cache_path(folder, sub, phase, suite)) for phase in phases} if sub.status == "ok" else {}
        parts[sid] = {phase: report for phase, report in here_all.items() if report is not None}
        if sub.status != "ok":
            continue
        found = theirs.get(sid)
        if found is None or found.sha != sub.sha:
            why = "not in it" if found is None else f"graded commit {found.sha[:12]} there, {sub.sha[:12]} here"
            stats.skipped.append(f"{sid}: {why}")
            continue
        changed = False
        for phase in phases:
            here = here_all[phase]
            there_path = _cache_path(other, found, phase, suite)
            there = _read_cache(there_path)
            if there is None:
                if any((other / sid / "cache").glob(f"{phase}-{sub.sha[:12]}-*.json")):
                    raise BatchError(
                        f"{other} was graded with another version of the tests or grader than {folder} "
                        "(its cache files name another suite): grade both with the same course checkout"
                    )
                continue
            runs = [(str(there_path), there)] if here is None else [("this folder", here), (str(there_path), there)]
            try:
                merged = merge_reports(runs)
            except MergeError as exc:
                stats.skipped.append(f"{sid} ({phase}): {exc}")
                continue
            write_json_atomic(_cache_path(folder, sub, phase, suite), merged.to_dict())
            parts[sid][phase] = merged
            changed = True
        if changed:
            stats.merged.append(sid)
    for sub in mine.values():
        write_result(folder, sub, parts[sub.student_id], assignment)
    return stats
