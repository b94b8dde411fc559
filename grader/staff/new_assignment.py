"""`grader new ID`: a complete, working assignment to start from, which `grader validate` accepts at once.

One task (a polynomial at every point: compute-bound, so its CPU speedup is measurable on two
cores) with a CPU and a GPU part: handout, stub, public and hidden tests, the solution, two
known-wrong submissions and a correct-but-different one, each where docs/authoring.md says it
goes. The instructor then replaces the task with their own, keeping `grader validate` green.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from string import Template

SCAFFOLD = Path(__file__).resolve().parent / "scaffold"
ID = re.compile(r"^a[0-9]+_[a-z][a-z0-9_]*$")


class ScaffoldError(Exception):
    """The assignment cannot be created as asked; the message says why."""


def files_for(course: Path, ident: str, module: str) -> dict[Path, str]:
    """Each file to write, by template name."""
    return {
        course / "assignments" / ident / "assignment.toml": "assignment.toml.tmpl",
        course / "assignments" / ident / f"{module}.py": "stub.py.tmpl",
        course / "assignments" / ident / "test_public.py": "test_public.py.tmpl",
        course / "assignments" / ident / "README.md": "README.md.tmpl",
        course / "solutions" / ident / f"{module}.py": "solution.py.tmpl",
        course / "tests" / "hidden" / ident / "test_hidden.py": "test_hidden.py.tmpl",
        course / "tests" / "wrong" / ident / "serial_poly_cpu.py": "wrong_serial.py.tmpl",
        course / "tests" / "wrong" / ident / "unguarded_index_poly_gpu.py": "wrong_unguarded.py.tmpl",
        course / "tests" / "correct" / ident / "poly_gpu_grid_stride_loop.py": "correct_grid_stride.py.tmpl",
    }


def new_assignment(course: Path, ident: str, module: str | None = None, title: str | None = None) -> list[Path]:
    """Write the scaffold for assignment ``ident`` into the course checkout; never overwrites anything."""
    if not ID.match(ident):
        raise ScaffoldError(f"{ident!r} is not an assignment id like a6_scan: 'a', a number, '_', then lowercase words")
    module = module or ident.split("_", 1)[1]
    if not module.isidentifier():
        raise ScaffoldError(f"module name {module!r} is not a Python identifier (give one with --module)")
    taken = [p for p in (course / "assignments" / ident, course / "solutions" / ident) if p.exists()]
    taken += [p for p in files_for(course, ident, module) if p.exists()]
    if taken:
        raise ScaffoldError(f"{ident} exists already ({taken[0]}): nothing was written")
    values = {
        "id": ident,
        "module": module,
        "title": title or f"{ident}: a new assignment",
        "version": f"{date.today().year}.1",
    }
    written = []
    for path, template in files_for(course, ident, module).items():
        text = Template((SCAFFOLD / template).read_text()).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
