"""The assignment contract: `assignments/<id>/assignment.toml`, loaded through one validated schema.

The spec is the single source of truth for tasks, points, input sizes and speedup targets. Tests
read sizes and targets from it, `grader validate` checks that the tests' points add up to it, and
the handout quotes it. A bad spec fails loudly with the file, the field and what was expected.
"""

from __future__ import annotations

import fnmatch
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SPEC_FILENAME = "assignment.toml"

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Points = Annotated[float, Field(ge=0)]


class SpecError(Exception):
    """A spec that cannot be loaded; the message names the file, the field and the expectation."""


class RubricLine(NamedTuple):
    """One line of the rubric: a task's part, checked for correctness or for speed.

    Written ``task.part.kind`` wherever a person types or reads it (selectors, overrides, CI
    output); still a tuple, so ``task, part, kind = line`` works.
    """

    task: str
    part: str
    kind: str

    def __str__(self) -> str:
        return f"{self.task}.{self.part}.{self.kind}"

    @classmethod
    def parse(cls, text: str) -> RubricLine:
        task, part, kind = text.split(".")
        return cls(task, part, kind)


class PartName(str, Enum):
    """Where a task part runs: plain Python, the CPU (numba/threads/processes), or a GPU kernel."""

    python = "python"
    cpu = "cpu"
    gpu = "gpu"


class Kind(str, Enum):
    """What a test checks: the answer, or the speed of getting it."""

    correctness = "correctness"
    performance = "performance"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PerformanceSpec(_Frozen):
    """How a part's speed is graded: one timed workload and a core-scaled target.

    With c usable cores the target speedup is ``1 + efficiency * (c - 1)`` and no credit is given
    below ``1 + floor_efficiency * (c - 1)``; credit is linear in between. The measurement lowers
    the target when the machine delivers less than c right now (see `grader.worker.speed_verdict`). GPU parts,
    whose speedup has nothing to do with CPU cores, set a fixed ``target`` and ``floor`` instead.
    ``bound`` says what limits the workload; memory-bound tasks declare ``bytes_per_element`` so
    the bandwidth they reach can be held against the machine's measured ceiling, and
    ``parallel_bytes_per_element`` when any parallel algorithm must move more than the serial loop;
    ``work_factor`` when it must do more work (the target is then ``1 + efficiency * (K / work_factor - 1)``).
    """

    points: Points
    size: int = Field(gt=0, description="elements in the timed input")
    params: dict[str, int | float | str] = Field(default_factory=dict)
    bound: Literal["compute", "memory"] = "compute"
    bytes_per_element: float | None = Field(
        default=None, gt=0, description="bytes the task must move per element (required when bound = memory)"
    )
    parallel_bytes_per_element: float | None = Field(
        default=None,
        gt=0,
        description="bytes per element a parallel algorithm must move, when more than the serial loop "
        "(a two-pass scan reads its input twice): the bandwidth room shrinks by the ratio",
    )
    work_factor: float = Field(
        default=1.0,
        ge=1,
        description="work of the parallel algorithm over the serial loop's (a two-pass scan adds every element "
        "twice: 2): on K cores' worth of parallelism it reaches at most K / work_factor",
    )
    efficiency: float = Field(default=0.7, gt=0, le=1)
    floor_efficiency: float = Field(default=0.2, ge=0, le=1)
    max_cores: int = Field(default=64, ge=1, description="cores beyond this do not raise the target")
    target: float | None = Field(default=None, gt=1, description="fixed target speedup (GPU parts), instead of core scaling")
    floor: float | None = Field(default=None, ge=0, description="fixed no-credit speedup, with target")

    @model_validator(mode="after")
    def _floor_below_target(self) -> PerformanceSpec:
        if self.floor_efficiency >= self.efficiency:
            raise ValueError("floor_efficiency must be below efficiency")
        if self.bound == "memory" and self.bytes_per_element is None:
            raise ValueError("a memory-bound task must declare bytes_per_element")
        if self.parallel_bytes_per_element is not None and (
            self.bound != "memory" or self.parallel_bytes_per_element < (self.bytes_per_element or 0)
        ):
            raise ValueError("parallel_bytes_per_element is for memory-bound tasks, at least bytes_per_element")
        if (self.target is None) != (self.floor is None):
            raise ValueError("give both target and floor, or neither")
        if self.target is not None and self.floor is not None and self.floor >= self.target:
            raise ValueError("floor must be below target")
        return self


class PartSpec(_Frozen):
    """One implementation of a task (python, cpu or gpu): the functions students write and their points."""

    functions: list[Identifier] = Field(min_length=1)
    correctness: Points
    sizes: list[Annotated[int, Field(gt=0)]] = Field(default_factory=list)
    simulator_sizes: list[Annotated[int, Field(gt=0)]] = Field(
        default_factory=list, description="GPU sizes small enough for the CUDA simulator"
    )
    params: dict[str, int | float | str] = Field(default_factory=dict)
    performance: PerformanceSpec | None = None

    @property
    def max_score(self) -> float:
        return self.correctness + (self.performance.points if self.performance else 0.0)


class TaskSpec(_Frozen):
    name: Identifier
    title: str = Field(min_length=1)
    serial: Identifier | None = Field(default=None, description="serial reference students can read")
    python: PartSpec | None = None
    cpu: PartSpec | None = None
    gpu: PartSpec | None = None

    @model_validator(mode="after")
    def _has_a_part(self) -> TaskSpec:
        if not self.parts:
            raise ValueError("a task needs at least one of the parts [tasks.python], [tasks.cpu], [tasks.gpu]")
        return self

    @property
    def parts(self) -> dict[PartName, PartSpec]:
        return {p: getattr(self, p.value) for p in PartName if getattr(self, p.value) is not None}

    @property
    def max_score(self) -> float:
        return sum(part.max_score for part in self.parts.values())


class AssignmentSpec(_Frozen):
    id: Identifier
    title: str = Field(min_length=1)
    module: Identifier = Field(description="the student module: <module>.py in the submission")
    version: str = "1"
    test_timeout: float = Field(default=120, gt=0, description="seconds one test may run")
    tasks: list[TaskSpec] = Field(min_length=1)

    @field_validator("tasks")
    @classmethod
    def _unique_task_names(cls, tasks: list[TaskSpec]) -> list[TaskSpec]:
        names = [t.name for t in tasks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"task names must be unique; repeated: {', '.join(dupes)}")
        return tasks

    @property
    def module_file(self) -> str:
        """The student module's file name, as it sits in a submission, the stub folder and solutions/."""
        return f"{self.module}.py"

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tasks)

    def task(self, name: str) -> TaskSpec:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(name)

    def part(self, task: str, part: str | PartName) -> PartSpec:
        found = self.task(task).parts.get(PartName(part))
        if found is None:
            raise KeyError(f"{task}.{PartName(part).value}")
        return found

    def lines(self) -> dict[RubricLine, float]:
        """Points per rubric line: what the tests of each line must add up to."""
        out: dict[RubricLine, float] = {}
        for t in self.tasks:
            for pname, p in t.parts.items():
                out[RubricLine(t.name, pname.value, Kind.correctness.value)] = p.correctness
                if p.performance is not None:
                    out[RubricLine(t.name, pname.value, Kind.performance.value)] = p.performance.points
        return out

    def functions(self) -> list[str]:
        """Every function the student module must define, serial references included."""
        names: list[str] = []
        for t in self.tasks:
            if t.serial:
                names.append(t.serial)
            for p in t.parts.values():
                names.extend(p.functions)
        return names


def _describe(error: dict) -> str:
    loc = error["loc"]
    field = ""
    for item in loc:
        field += f"[{item}]" if isinstance(item, int) else (f".{item}" if field else str(item))
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling; see grader/core/spec.py for the schema)"
    if error["type"] == "missing":
        message = "required field is missing"
    got = error.get("input")
    shown = "" if error["type"] in ("missing", "extra_forbidden") or isinstance(got, dict) else f" (got {got!r})"
    return f"  {field or '<top level>'}: {message}{shown}"


def parse_spec(data: dict, source: Path | str) -> AssignmentSpec:
    try:
        return AssignmentSpec.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(e) for e in exc.errors()]
        raise SpecError(f"{source}: invalid assignment spec\n" + "\n".join(lines)) from None


def load_spec(path: Path) -> AssignmentSpec:
    """Load and validate one assignment.toml (a file or the folder holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / SPEC_FILENAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no assignment spec here (expected a file named {SPEC_FILENAME})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None
    spec = parse_spec(data, path)
    if spec.id != path.parent.name:
        raise SpecError(f"{path}: id: must equal the folder name {path.parent.name!r} (got {spec.id!r})")
    return spec


def line_selected(line: RubricLine | tuple[str, str, str], patterns: list[str]) -> bool:
    """Does a rubric line (task, part, kind) match any TASK[.PART[.KIND]] pattern (shell wildcards)? None given: yes."""
    if not patterns:
        return True
    for pattern in patterns:
        pieces = pattern.split(".")
        if len(pieces) <= 3 and all(fnmatch.fnmatchcase(v, p) for v, p in zip(line, pieces, strict=False)):
            return True
    return False


def unknown_selectors(spec: AssignmentSpec, patterns: list[str]) -> list[str]:
    """The patterns that match no rubric line of ``spec`` (a typo would otherwise grade nothing, 0/0)."""
    lines = list(spec.lines())
    return [p for p in patterns if not any(line_selected(line, [p]) for line in lines)]
