"""Pending lines in nbgrader's gradebook: no autograde score and "needs manual grade", not a zero.

nbgrader scores a test cell 0 when it raises, and a `check()` cell raises `Pending` for a line this
machine could not judge (a speed line on a busy machine, a GPU line without a GPU). The export's
nbgrader_config.py replaces nbgrader's SaveAutoGrades with `SavePendingAsManual`, which saves such a
cell with no autograde score and flags it for manual grading, so formgrader lists the submission
under "needs manual grade" and the notebook's total does not count the cell: the TA grades the line
with `grader grade` where it can be judged and enters the points there. Imported only by nbgrader
(the `notebooks` extra).
"""

from __future__ import annotations

from nbgrader.converters.autograde import Autograde
from nbgrader.preprocessors import SaveAutoGrades

from .check import PENDING_PREFIX


def is_pending(cell) -> bool:
    """The cell ran `check()` and the line could not be judged on this machine."""
    return any(
        out.get("output_type") == "error" and str(out.get("evalue", "")).startswith(PENDING_PREFIX)
        for out in cell.get("outputs", [])
    )


class SavePendingAsManual(SaveAutoGrades):
    """nbgrader's SaveAutoGrades, except that a pending cell gets no autograde score and is flagged for
    manual grading instead of scored 0."""

    def _add_score(self, cell, resources) -> None:
        super()._add_score(cell, resources)
        if not is_pending(cell):
            return
        ids = (cell.metadata["nbgrader"]["grade_id"], self.notebook_id, self.assignment_id, self.student_id)
        grade = self.gradebook.find_grade(*ids)
        grade.auto_score = None
        grade.needs_manual_grade = True
        self.gradebook.db.commit()


def autograde_preprocessors() -> list:
    """nbgrader's own autograde steps, with `SavePendingAsManual` in place of SaveAutoGrades."""
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    return [SavePendingAsManual if step is SaveAutoGrades else step for step in default]
