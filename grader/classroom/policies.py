"""Course-wide grading policy from `course.toml` at the course root: late work, and what goes to the LMS.

    [late]
    window_days = 3          # commits up to this long after the deadline are graded, with a penalty
    grace_minutes = 15       # lateness below this is forgiven (clock skew, a push that took a while)
    penalty_per_day = 0.10   # share of the points lost per started day late
    max_penalty = 0.5        # never more than this share

    [lms]
    missing = "blank"        # a student with no gradable submission: "blank" (no grade yet) or "zero"
    [lms.canvas_assignment_ids]
    a1_speedup = 123456      # the Canvas assignment's id: lms.csv's column is then "Title (123456)"

A student's extension (roster column `extension_days`) moves their deadline. Without a
`course.toml` the defaults above apply. Commit times come from git and are set by the student's
machine: they are evidence, not proof (the TA's report shows them next to the SHA).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILENAME = "course.toml"


class PolicyError(Exception):
    """course.toml is malformed; the message names the field."""


@dataclass(frozen=True)
class LatePolicy:
    window_days: float = 3.0
    grace_minutes: float = 15.0
    penalty_per_day: float = 0.10
    max_penalty: float = 0.5

    def penalty(self, late_seconds: float) -> float:
        """Share of the points lost for a submission this late (0 when on time or within grace)."""
        if late_seconds <= self.grace_minutes * 60:
            return 0.0
        days = math.ceil(late_seconds / 86400)
        return min(self.max_penalty, self.penalty_per_day * days)

    @property
    def window_seconds(self) -> float:
        return self.window_days * 86400


@dataclass(frozen=True)
class LmsPolicy:
    """What lms.csv writes where there is no grade to give, and which LMS assignment a column updates."""

    missing: str = "blank"  # blank | zero
    canvas_assignment_ids: tuple[tuple[str, int], ...] = ()

    def canvas_id(self, assignment_id: str) -> int | None:
        return dict(self.canvas_assignment_ids).get(assignment_id)


def _read(course_root: Path) -> tuple[Path, dict]:
    path = Path(course_root) / CONFIG_FILENAME
    if not path.is_file():
        return path, {}
    try:
        return path, tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None


def load_lms_policy(course_root: Path) -> LmsPolicy:
    path, data = _read(course_root)
    lms = data.get("lms", {})
    unknown = set(lms) - {"missing", "canvas_assignment_ids"}
    if unknown:
        raise PolicyError(f"{path}: unknown [lms] field(s) {sorted(unknown)}; known: ['canvas_assignment_ids', 'missing']")
    missing = lms.get("missing", "blank")
    if missing not in ("blank", "zero"):
        raise PolicyError(f'{path}: [lms] missing must be "blank" or "zero", got {missing!r}')
    ids = lms.get("canvas_assignment_ids", {})
    if not isinstance(ids, dict) or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in ids.values()):
        example = "a1_speedup = 123456"
        raise PolicyError(f"{path}: [lms.canvas_assignment_ids] maps an assignment id to Canvas's numeric id, e.g. {example}")
    return LmsPolicy(missing=missing, canvas_assignment_ids=tuple(sorted(ids.items())))


def load_late_policy(course_root: Path) -> LatePolicy:
    path, data = _read(course_root)
    late = data.get("late", {})
    known = set(LatePolicy.__dataclass_fields__)
    unknown = set(late) - known
    if unknown:
        raise PolicyError(f"{path}: unknown [late] field(s) {sorted(unknown)}; known: {sorted(known)}")
    for key, value in late.items():
        if not isinstance(value, (int, float)) or value < 0:
            raise PolicyError(f"{path}: [late] {key} must be a number ≥ 0, got {value!r}")
    return LatePolicy(**{k: float(v) for k, v in late.items()})
