"""Known-wrong submissions lose points on exactly the rubric line they break, and nowhere else.

Each file in tests/wrong/<assignment>/ is appended to that assignment's reference solution and
declares what it breaks in a comment: `# breaks: task.part.kind`. The test grades it with the
hidden tests and checks that line loses points while every other graded line keeps all of its.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.course import Course
from grader.grading import grade_submission
from grader.results import Status

from ..conftest import ROOT

WRONG = ROOT / "tests" / "wrong"
CASES = sorted(WRONG.glob("*/*.py"))


def breaks(path: Path) -> str:
    found = re.search(r"^# breaks: (\S+)$", path.read_text(), re.M)
    assert found, f"{path} does not say what it breaks (# breaks: task.part.kind)"
    return found.group(1)


def lines_of(report) -> dict[str, tuple[float, float, set[Status]]]:
    out: dict[str, tuple[float, float, set[Status]]] = {}
    for t in report.tests:
        key = f"{t.task}.{t.part}.{t.kind}"
        score, top, statuses = out.get(key, (0.0, 0.0, set()))
        out[key] = (score + t.score, top + t.max_score, statuses | {t.status})
    return out


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_wrong_submission_loses_points_only_where_it_is_wrong(path, tmp_path):
    assignment = Course(ROOT).resolve(path.parent.name)
    broken = breaks(path)
    task, part, kind = broken.split(".")
    solution = (assignment.solution_dir / f"{assignment.spec.module}.py").read_text()
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / f"{assignment.spec.module}.py").write_text(solution + "\n\n" + path.read_text())
    # Every correctness line (to prove the others keep their points), plus the broken line itself.
    select = ["*.*.correctness", broken]
    report = grade_submission(assignment, folder, hidden=True, gpu="cudasim", select=select)
    lines = lines_of(report)
    score, top, statuses = lines[broken]
    assert score < top, f"{broken} kept all its points: {statuses}"
    if kind == "performance":  # on a machine too busy to judge: deferred, still never a point
        assert statuses <= {Status.failed, Status.deferred, Status.partial} and score == 0
    others = {k: v for k, v in lines.items() if k != broken and Status.deferred not in v[2]}
    lost = {k: f"{s:g}/{m:g}" for k, (s, m, _) in others.items() if s < m - 1e-9}
    assert not lost, f"{path.stem} also lost points on {lost}"
