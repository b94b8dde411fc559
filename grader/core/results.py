"""The one record type that flows from a test to every report, and what a report says per rubric line.

A `TestRecord` is made once, in the worker, by the pytest plugin; the parent process collects them
into a `GradeReport`. Every output format (terminal, JSON, Markdown, CI, Gradescope, gradebook)
reads these objects; nothing downstream re-parses pytest output. Scores are computed properties.
`GradeReport.lines()` groups records by rubric line, once, with one rule for the line's status
word and detail text; `GradeReport.for_students()` is the one place that decides what a student
may see.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from .spec import RubricLine

RESULTS_SCHEMA = 1


def write_text_atomic(path: Path | str, text: str) -> None:
    """Readers see the old file or the whole new one; a crash mid-write leaves only a stray temp file.

    The temp name is unique per process and thread, so concurrent writers never share one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# What a student reads about a hidden test that did not pass: never its name, input or expectation.
HIDDEN_MESSAGES = {
    "failed": "wrong result on a hidden test input",
    "error": "error on a hidden test input (an exception, a crash or a broken rule)",
    "timeout": "too slow on a hidden test input: stopped at the time limit",
}


TAMPERED = "tampered"
WITHHELD = "withheld"


RAISED = re.compile(r"^raised ([A-Za-z_][A-Za-z0-9_]*)\b")


def _hidden_message(t: TestRecord) -> str:
    """A hidden test's failure as a student reads it: generic, plus the exception's type when the
    student's code raised one (its name says nothing about the hidden input)."""
    raised = RAISED.match(t.message) if t.status is Status.failed else None
    if raised:
        return f"your code raised {raised.group(1)} on a hidden test input (the public tests show what it means)"
    return HIDDEN_MESSAGES.get(t.status.value, "")


class Status(str, Enum):
    passed = "passed"
    partial = "partial"  # a performance test that earned part of its points
    failed = "failed"
    error = "error"  # the test could not judge the code: import failure, crash, grader trouble
    timeout = "timeout"
    deferred = "deferred"  # cannot be judged on this machine (no GPU, 1 core); graded elsewhere

    @property
    def counts_as_earned(self) -> bool:
        return self in (Status.passed, Status.partial)


@dataclass(frozen=True)
class TestRecord:
    """The outcome of one test: what it checked, how it went, what it is worth."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    task: str
    part: str
    kind: str  # correctness | performance
    status: Status
    score: float
    max_score: float
    message: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    visibility: str = "public"  # public | hidden
    duration: float = 0.0
    nodeid: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)  # set by `grader merge`: which run this record came from
    flags: tuple[str, ...] = ()  # for the TA: TAMPERED (the guard voided it), WITHHELD (its message quoted a secret)

    def __post_init__(self) -> None:
        if not 0 <= self.score <= self.max_score + 1e-9:
            raise ValueError(f"{self.name}: score {self.score} outside [0, {self.max_score}]")
        if self.status not in (Status.passed, Status.partial) and self.score:
            raise ValueError(f"{self.name}: a {self.status.value} test cannot earn points")

    @property
    def line(self) -> RubricLine:
        """The rubric line this test counts towards (``str()`` of it: ``task.part.kind``)."""
        return RubricLine(self.task, self.part, self.kind)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TestRecord:
        known = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in d.items() if k in known}
        kwargs["status"] = Status(kwargs["status"])
        kwargs["flags"] = tuple(kwargs.get("flags", ()))
        return cls(**kwargs)


@dataclass(frozen=True)
class LineResult:
    """What a report says about one rubric line: its tests, points, one status word and one detail text."""

    line: RubricLine
    records: tuple[TestRecord, ...]

    @property
    def score(self) -> float:
        return round(sum(r.score for r in self.records), 6)

    @property
    def max_score(self) -> float:
        return round(sum(r.max_score for r in self.records), 6)

    @property
    def pending(self) -> bool:
        """Not judged on this machine: never a pass, never a zero."""
        return all(r.status is Status.deferred for r in self.records)

    @property
    def status(self) -> str:
        """One word for the line: passed | partial | failed | error | timeout | pending."""
        statuses = {r.status for r in self.records}
        if self.pending:
            return "pending"
        if statuses <= {Status.passed, Status.deferred}:
            return "passed"
        for bad in (Status.timeout, Status.error):
            if statuses == {bad}:
                return bad.value
        return "partial" if self.score > 0 else "failed"

    @property
    def bad(self) -> list[TestRecord]:
        return [r for r in self.records if r.status not in (Status.passed, Status.deferred)]

    @property
    def detail(self) -> str:
        """The line's text in every format: why it is pending, what went wrong first, or what was measured."""
        if self.pending:
            reason = next((r.message for r in self.records if r.message), "")
            return f"pending: {reason}" if reason else "pending: graded by the course on a machine that can judge it"
        bad = self.bad
        if self.line.kind == "performance" or not bad:
            first = next((r.message for r in self.records if r.message), "")
            if len(self.records) > 1 and self.line.kind != "performance":
                return f"{len(self.records)}/{len(self.records)} tests passed" + (f"; {first}" if first else "")
            return first
        first = bad[0].message or bad[0].status.value
        return f"{len(bad)} of {len(self.records)} tests: {first}" if len(self.records) > 1 else first


@dataclass(frozen=True)
class Machine:
    """What the grading machine could show: usable cores and the GPU backend."""

    cores: int
    gpu: str  # cuda | cudasim | none
    hostname: str = ""
    gpu_name: str = ""

    def describe(self) -> str:
        gpu = {"cuda": f"GPU: {self.gpu_name or 'CUDA'}", "cudasim": "GPU: simulator", "none": "GPU: none"}
        return f"{self.cores} usable core{'s' if self.cores != 1 else ''} · {gpu.get(self.gpu, self.gpu)}"


@dataclass(frozen=True)
class GradeReport:
    """All records of one grading run of one submission, plus what was graded and where."""

    assignment: str
    title: str
    submission: str
    machine: Machine
    tests: tuple[TestRecord, ...]
    visibility: str = "public"  # public: student checks; all: public + hidden
    errors: tuple[str, ...] = ()  # problems outside any single test (e.g. missing submission)
    duration: float = 0.0
    flags: tuple[str, ...] = ()  # for a TA to look at: protected files changed, limits hit, tampering
    graded_at: str = ""  # ISO 8601 (UTC) when grading finished
    isolation: str = ""  # full | reduced: why (what the worker could reach: see grader/run/isolation.py)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 6)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 6)

    @property
    def deferred_points(self) -> float:
        return round(sum(t.max_score for t in self.tests if t.status is Status.deferred), 6)

    @property
    def gradable_max(self) -> float:
        """Points that could be earned on this machine (deferred tests excluded)."""
        return round(self.max_score - self.deferred_points, 6)

    def lines(self) -> list[LineResult]:
        """The report by rubric line, in the order the lines' first tests ran."""
        grouped: dict[RubricLine, list[TestRecord]] = {}
        for t in self.tests:
            grouped.setdefault(t.line, []).append(t)
        return [LineResult(line, tuple(records)) for line, records in grouped.items()]

    def for_students(self) -> GradeReport:
        """The report a student may see: hidden tests get opaque names and generic messages.

        Performance results keep their numbers (the grader wrote them, not the hidden test) unless
        the test failed; TA-only flags (the report's and each record's) are dropped. The full report
        stays with the TA. Every student-facing output goes through here, and it is idempotent.
        """
        counters: dict[RubricLine, int] = {}
        tests = []
        for t in self.tests:
            if t.visibility != "hidden":
                tests.append(replace(t, flags=()))
                continue
            key = t.line
            counters[key] = counters.get(key, 0) + 1
            keep = t.status in (Status.passed, Status.deferred) or (t.kind == "performance" and t.status is Status.partial)
            tests.append(
                replace(
                    t,
                    name=f"hidden {t.task}.{t.part} {t.kind} #{counters[key]}",
                    message=t.message if keep and t.kind == "performance" or t.status is Status.deferred else _hidden_message(t),
                    metrics=dict(t.metrics) if keep and t.kind == "performance" else {},
                    nodeid="",
                    flags=(),
                )
            )
        return replace(self, tests=tuple(tests), flags=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": RESULTS_SCHEMA,
            "assignment": self.assignment,
            "title": self.title,
            "submission": self.submission,
            "visibility": self.visibility,
            "machine": asdict(self.machine),
            "score": self.score,
            "max_score": self.max_score,
            "deferred_points": self.deferred_points,
            "duration": round(self.duration, 3),
            "errors": list(self.errors),
            "flags": list(self.flags),
            "graded_at": self.graded_at,
            "isolation": self.isolation,
            "tests": [t.to_dict() for t in self.tests],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GradeReport:
        return cls(
            assignment=d["assignment"],
            title=d.get("title", ""),
            submission=d["submission"],
            machine=Machine(**d["machine"]),
            tests=tuple(TestRecord.from_dict(t) for t in d["tests"]),
            visibility=d.get("visibility", "public"),
            errors=tuple(d.get("errors", ())),
            duration=d.get("duration", 0.0),
            flags=tuple(d.get("flags", ())),
            graded_at=d.get("graded_at", ""),
            isolation=d.get("isolation", ""),
        )

    def write_json(self, path: Path) -> None:
        write_text_atomic(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def read_json(cls, path: Path) -> GradeReport:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
