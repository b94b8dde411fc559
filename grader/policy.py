"""Course-wide grading policy from `course.toml` at the course root: late work and its penalty.

    [late]
    window_days = 3          # commits up to this long after the deadline are graded, with a penalty
    grace_minutes = 15       # lateness below this is forgiven (clock skew, a push that took a while)
    penalty_per_day = 0.10   # share of the points lost per started day late
    max_penalty = 0.5        # never more than this share

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


def load_late_policy(course_root: Path) -> LatePolicy:
    path = Path(course_root) / CONFIG_FILENAME
    if not path.is_file():
        return LatePolicy()
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    late = data.get("late", {})
    known = set(LatePolicy.__dataclass_fields__)
    unknown = set(late) - known
    if unknown:
        raise PolicyError(f"{path}: unknown [late] field(s) {sorted(unknown)}; known: {sorted(known)}")
    for key, value in late.items():
        if not isinstance(value, (int, float)) or value < 0:
            raise PolicyError(f"{path}: [late] {key} must be a number ≥ 0, got {value!r}")
    return LatePolicy(**{k: float(v) for k, v in late.items()})
