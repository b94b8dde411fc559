"""Known submissions prove the grader both ways: wrong ones lose points exactly where they are
wrong, correct-but-different ones keep every point.

Each file in tests/wrong/<assignment>/ and tests/correct/<assignment>/ is appended to that
assignment's reference solution (redefining only the functions it changes) and graded with the
hidden tests under the strict simulator.

- tests/wrong: the file declares what it breaks, `# breaks: task.part.kind`; that line must lose
  points while every other line the file can change (the correctness lines of the parts whose
  functions it redefines, as for tests/correct below) keeps all of its.
- tests/correct: the file says how it differs, `# differs: ...`; every correctness line of every
  part whose functions it redefines must keep all its points (the lines of parts it leaves alone
  run the reference's own code, which `grader validate` already proves). A file that redefines a
  shared helper or constant of the reference instead has every correctness line graded. Speed
  lines are measured by `python tests/wrong/table.py --correct`, not here: CI time is short.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import pytest

from grader.core.course import Assignment, Course
from grader.core.results import Status
from grader.run.grade import grade_submission

from ..conftest import ROOT, judged

WRONG = ROOT / "tests" / "wrong"
CASES = sorted(WRONG.glob("*/*.py"))
CORRECT = ROOT / "tests" / "correct"
CORRECT_CASES = sorted(CORRECT.glob("*/*.py"))

# Correct submissions the strict simulator cannot grade yet, with the reason: marked xfail(strict),
# so each must be taken off this list as soon as the simulator grades it right.
SIMULATOR_GAPS: dict[str, str] = {}


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def breaks(path: Path) -> str:
    found = re.search(r"^# breaks: (\S+)$", path.read_text(), re.M)
    assert found, f"{path} does not say what it breaks (# breaks: task.part.kind)"
    return found.group(1)


def differs(path: Path) -> str:
    """The file's opening `# differs: ...` comment, as one line."""
    text = path.read_text()
    found = re.match(r"# differs: (.+(?:\n# (?!\S+:).+)*)", text)
    assert found, f"{path} does not start with what it does differently (# differs: ...)"
    return " ".join(line.removeprefix("# ").strip() for line in found.group(1).splitlines()).removeprefix("differs: ")


def submission_folder(assignment: Assignment, path: Path, parent: Path) -> Path:
    """A submission folder holding the reference solution with `path` appended to it."""
    folder = parent / "sub"
    folder.mkdir()
    solution = (assignment.solution_dir / f"{assignment.spec.module}.py").read_text()
    (folder / f"{assignment.spec.module}.py").write_text(solution + "\n\n" + path.read_text())
    return folder


def _top_level_names(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def touched_lines(assignment: Assignment, path: Path) -> list[str]:
    """The correctness lines a correct-but-different file can change (see the module docstring)."""
    spec = assignment.spec
    solution = (assignment.solution_dir / f"{spec.module}.py").read_text()
    defined = _top_level_names(path.read_text())
    graded = {f for t in spec.tasks for p in t.parts.values() for f in p.functions}
    if defined & (_top_level_names(solution) - graded):
        return ["*.*.correctness"]  # a shared helper or constant of the reference changed
    lines = [
        f"{t.name}.{name.value}.correctness" for t in spec.tasks for name, p in t.parts.items() if defined & set(p.functions)
    ]
    assert lines, f"{path} redefines none of the graded functions ({', '.join(sorted(graded))})"
    return lines


def first_line(message: str | None) -> str:
    return message.splitlines()[0][:200] if message else ""


def lines_of(report) -> dict[str, tuple[float, float, set[Status]]]:
    out: dict[str, tuple[float, float, set[Status]]] = {}
    for t in report.tests:
        key = str(t.line)
        score, top, statuses = out.get(key, (0.0, 0.0, set()))
        out[key] = (score + t.score, top + t.max_score, statuses | {t.status})
    return out


class Gradings:
    """Grades the selected known submissions ahead: correctness gradings as many at a time as there
    are usable cores, then the ones that break a speed line one at a time, on an otherwise idle machine.

    A correctness grading is a worker process that mostly runs one core's worth of Python, so two at
    a time halve this module's time on a 2-core CI machine; a racy CPU submission is caught with one
    core busy too (tests/wrong/README.md: ≥ 19 of 20). A speed line timed next to another grading
    would mostly be pending (the machine delivers too little parallelism to judge), and a pending
    line proves nothing: those run alone, last. Every grading is submitted when the first test
    asks, so the module ends (and no timing test elsewhere overlaps it) when its last test has its
    result.
    """

    def __init__(self, items: list[pytest.Item]) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="known-submissions-"))
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(os.sched_getaffinity(0))))
        self._alone = ThreadPoolExecutor(max_workers=1)
        self._futures: dict[tuple[Path, str], Future] = {}
        wanted = []
        for item in items:
            callspec = getattr(item, "callspec", None)
            if item.module is sys.modules[__name__] and callspec is not None and "path" in callspec.params:
                wanted.append((callspec.params["path"], _which(item.originalname, callspec.params["path"])))
        for key in dict.fromkeys(k for k in wanted if k[1] != "speed"):
            self._futures[key] = self._pool.submit(self._grade, *key)
        parallel = list(self._futures.values())
        for key in dict.fromkeys(k for k in wanted if k[1] == "speed"):
            self._futures[key] = self._alone.submit(self._grade_alone, key, parallel)

    def _grade_alone(self, key: tuple[Path, str], before: list[Future]):
        wait(before)
        return self._grade(*key)

    def _grade(self, path: Path, which: str):
        """``which``: "speed", a speed-breaking file's broken line alone; "others", the correctness
        lines such a file could change; "all", the broken line plus those (a file that breaks a
        correctness line), or the correctness lines of a correct-but-different file."""
        assignment = Course(ROOT).resolve(path.parent.name)
        select = touched_lines(assignment, path)
        if which == "speed":
            select = [breaks(path)]
        elif which == "all" and path.is_relative_to(WRONG):
            # The broken line, plus every correctness line the file could change (to prove those keep
            # their points); the lines of parts it leaves alone run the reference's own code (validate).
            select = sorted(set(select) | {breaks(path)})
        kind = "wrong" if path.is_relative_to(WRONG) else "correct"
        parent = self._tmp / f"{path.parent.name}-{path.stem}-{kind}-{which}"
        parent.mkdir()
        return grade_submission(
            assignment, submission_folder(assignment, path, parent), hidden=True, gpu="cudasim", select=select
        )

    def report(self, path: Path, which: str = "all"):
        key = (path, which)
        if key not in self._futures:  # run on its own (e.g. by node id)
            self._futures[key] = self._pool.submit(self._grade, *key)
        return self._futures[key].result()

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)
        self._alone.shutdown(cancel_futures=True)
        shutil.rmtree(self._tmp, ignore_errors=True)


def _which(test: str, path: Path) -> str:
    """What a test needs graded: a speed-breaking file's speed line alone, or its other lines, or all."""
    if path.is_relative_to(WRONG) and breaks(path).endswith(".performance"):
        return "others" if test == "test_wrong_speed_submission_keeps_its_other_lines" else "speed"
    return "all"


@pytest.fixture(scope="module")
def gradings(request):
    known = Gradings(request.session.items)
    yield known
    known.close()


def _wrong_params():
    """A file that breaks a speed line is timed: it runs with the tests that have the machine to themselves."""
    for path in CASES:
        marks = [pytest.mark.alone] if breaks(path).endswith(".performance") else []
        yield pytest.param(path, id=case_id(path), marks=marks)


@pytest.mark.parametrize("path", list(_wrong_params()))
def test_wrong_submission_loses_points_only_where_it_is_wrong(path, gradings):
    broken = breaks(path)
    task, part, kind = broken.split(".")
    report = gradings.report(path, _which("test_wrong_submission_loses_points_only_where_it_is_wrong", path))
    lines = lines_of(report)
    score, top, statuses = lines[broken]
    if kind == "performance":  # pending on a busy or one-core machine: the test skips with the reason
        for record in report.tests:
            if str(record.line) == broken:
                judged(record)
        assert statuses <= {Status.failed, Status.partial} and score == 0, f"{broken}: {statuses}, {score:g} points"
    assert score < top, f"{broken} kept all its points: {statuses}"
    others = {k: v for k, v in lines.items() if k != broken and Status.deferred not in v[2]}
    lost = {k: f"{s:g}/{m:g}" for k, (s, m, _) in others.items() if s < m - 1e-9}
    assert not lost, f"{path.stem} also lost points on {lost}"


SPEED_CASES = [p for p in CASES if breaks(p).endswith(".performance")]


@pytest.mark.parametrize("path", SPEED_CASES, ids=[case_id(p) for p in SPEED_CASES])
def test_wrong_speed_submission_keeps_its_other_lines(path, gradings):
    """The correctness lines a speed-breaking file could change keep all their points: graded apart
    from its speed line, so that this part shares the machine and only the timing runs alone."""
    lines = lines_of(gradings.report(path, "others"))
    assert lines, f"no correctness line graded for {path.stem}"
    lost = {k: f"{s:g}/{m:g}" for k, (s, m, _) in lines.items() if s < m - 1e-9}
    assert not lost, f"{path.stem} lost points on {lost}"


def _correct_params():
    for path in CORRECT_CASES:
        gap = SIMULATOR_GAPS.get(case_id(path))
        marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
        yield pytest.param(path, id=case_id(path), marks=marks)


@pytest.mark.parametrize("path", list(_correct_params()))
def test_correct_submission_keeps_every_point(path, gradings):
    differs(path)  # says what it does differently
    report = gradings.report(path)
    assert lines_of(report), f"no test graded {touched_lines(Course(ROOT).resolve(path.parent.name), path)}"
    short = [
        f"{t.line} {t.name}: {t.status.value} {t.score:g}/{t.max_score:g} {first_line(t.message)}"
        for t in report.tests
        if t.status is not Status.passed or t.score < t.max_score - 1e-9
    ]
    assert not short, f"{path.stem} lost points: {short}"
