"""A class of synthetic student repositories for a1, made from the released template with git.

Kinds (cycled): reference (the solution), stub (nothing done), wrong (the solution with one Amdahl
function broken), slow (the solution with its parallel loop made serial), broken (a syntax error),
late (the solution, committed a day after the deadline); every 25th student's URL points nowhere.
With ``notebooks=True`` every repository hands in the work as a notebook (`<module>.ipynb`, one
cell per function, as a student working in Jupyter would) instead of the module.
Used by `batch_grading.py` and by the project's batch tests.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

from grader.core.course import Assignment
from grader.notebooks.cells import cell, code_cells, notebook, write_notebook
from grader.staff.release import build_release

KINDS = ("reference", "stub", "wrong", "slow", "broken", "late")
WRONG = "\n\ndef karp_flatt(speedup, workers):\n    return 0.5\n"
SLOW = """

from numba import njit as _njit


@_njit(cache=False)
def _serial_fourier(x, terms):
    out = _np.empty_like(x)
    for i in range(x.size):
        acc = 0.0
        for k in range(terms):
            n = 2 * k + 1
            acc += _np.sin(n * x[i]) / n
        out[i] = 4.0 / _np.pi * acc
    return out


def fourier_cpu(x, terms):
    return _serial_fourier(x, terms)
"""


def _git(repo: Path, *args: str, when: datetime | None = None) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="student", GIT_AUTHOR_EMAIL="s@example.invalid",
               GIT_COMMITTER_NAME="student", GIT_COMMITTER_EMAIL="s@example.invalid")  # fmt: skip
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def make_class(
    assignment: Assignment, root: Path, n: int, *, kinds: tuple[str, ...] = KINDS, notebooks: bool = False
) -> tuple[Path, datetime, dict[str, str]]:
    """Write ``n`` repositories and a roster under ``root``; returns (roster, deadline, kind by student)."""
    root.mkdir(parents=True, exist_ok=True)
    template = build_release(assignment, root / "template", force=True).path
    solution = (assignment.solution_dir / f"{assignment.spec.module}.py").read_text()
    module = Path("assignments") / assignment.folder.name / f"{assignment.spec.module}.py"
    deadline = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0)
    on_time, late = deadline - timedelta(hours=6), deadline + timedelta(hours=26)
    rows, kind_of = [], {}
    for i in range(n):
        sid, kind = f"s{i:03d}", kinds[i % len(kinds)]
        url = root / "repos" / sid
        if i % 25 == 24:
            kind, url = "missing", root / "repos" / "nobody-made-this"
        else:
            if url.exists():
                shutil.rmtree(url)
            subprocess.run(["git", "clone", "--quiet", str(template), str(url)], check=True, capture_output=True)
            text = {
                "reference": solution,
                "late": solution,
                "wrong": solution + WRONG,
                "slow": solution + ("\nimport numpy as _np\n" + SLOW),
                "broken": solution + "\ndef oops(:\n",
            }.get(kind)
            if kind == "late":  # an on-time stub commit first, then the real work a day late
                (url / "notes.txt").write_text("started\n")
                _git(url, "add", "-A")
                _git(url, "commit", "-qm", "start", when=on_time - timedelta(hours=1))
            if notebooks:  # the work (the stub too) handed in as a notebook instead of the module
                text = text if text is not None else (url / module).read_text()
                (url / module).unlink()
                codes = code_cells(solution if kind == "broken" else text)
                if kind == "broken":  # the cell defining karp_flatt does not parse: it is missing
                    codes = [c.replace("def karp_flatt(", "def karp_flatt((") for c in codes]
                cells = [cell("code", code) for code in codes]
                write_notebook((url / module).with_suffix(".ipynb"), notebook(cells))
                _git(url, "add", "-A")
                _git(url, "commit", "-qm", f"my {kind} notebook", when=late if kind == "late" else on_time)
            elif text is not None:
                (url / module).write_text(text)
                _git(url, "add", "-A")
                _git(url, "commit", "-qm", f"my {kind} work", when=late if kind == "late" else on_time)
        kind_of[sid] = kind
        rows.append({"student_id": sid, "name": f"Student {i}", "repo": str(url), "extension_days": ""})
    roster = root / "roster.csv"
    with open(roster, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["student_id", "name", "repo", "extension_days"])
        writer.writeheader()
        writer.writerows(rows)
    return roster, deadline, kind_of
