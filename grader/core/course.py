"""Where things live in a course checkout, and how a short assignment ID (`a1`) finds its folder.

The course root is, in order: `--course`/`PARLAB_COURSE`, the nearest folder above the current
directory that holds `assignments/`, or the checkout this package was installed from. A student
template repository has the same layout minus `solutions/` and `tests/hidden/`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .spec import SPEC_FILENAME, AssignmentSpec, load_spec

GRADER_PACKAGE = Path(__file__).resolve().parents[1]  # the installed grader (in the course checkout when editable)

COURSE_ENV = "PARLAB_COURSE"


class CourseError(Exception):
    """The course layout or an assignment ID could not be resolved; the message says what to do."""


@dataclass(frozen=True)
class Assignment:
    """One assignment folder with its validated spec and the paths the grader needs."""

    spec: AssignmentSpec
    folder: Path
    course_root: Path

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def stub_module(self) -> Path:
        """The released module: stubs plus the staff serial references the timings trust."""
        return self.folder / self.spec.module_file

    @property
    def solution_module(self) -> Path:
        """The staff solution (never released)."""
        return self.solution_dir / self.spec.module_file

    @property
    def public_tests(self) -> list[Path]:
        return sorted(self.folder.glob("test_*.py"))

    @property
    def hidden_dir(self) -> Path:
        return self.course_root / "tests" / "hidden" / self.id

    @property
    def hidden_tests(self) -> list[Path]:
        return sorted(self.hidden_dir.glob("test_*.py")) if self.hidden_dir.is_dir() else []

    @property
    def solution_dir(self) -> Path:
        return self.course_root / "solutions" / self.id


SKIP_DIRS = {".git", "__pycache__", ".venv", "venv", "node_modules", ".ipynb_checkpoints", "site-packages"}


class SubmissionLayoutError(Exception):
    """The student's module cannot be told apart (several candidates); the message names them."""


def find_module_folder(folder: Path, assignment: Assignment) -> Path:
    """The folder holding the student's module inside what was handed in (a folder, a repository root, an upload).

    The module may be ``<module>.py`` or, in a notebook course, ``<module>.ipynb`` (a notebook
    file given as ``folder`` is returned as it is). In order: the folder itself; the released
    layout, ``assignments/<folder>/<module>.py``, at the top or (just once) deeper; the only copy
    anywhere below it (not in .git or environments). Several copies elsewhere are an error naming
    them; none returns ``folder`` (each test then reports the module missing).
    """
    folder = Path(folder)
    module = assignment.spec.module_file
    names = (module, Path(module).stem + ".ipynb")  # a notebook course hands in <module>.ipynb
    for candidate in (folder, folder / "assignments" / assignment.folder.name):
        if any((candidate / name).is_file() for name in names):
            return candidate
    if not folder.is_dir():
        return folder
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        if any(name in files for name in names):
            found.append(Path(root))
    released = [f for f in found if f.parts[-2:] == ("assignments", assignment.folder.name)]
    if len(released) == 1:  # a repository uploaded inside a folder of its own
        return released[0]
    if len(found) > 1:
        names = ", ".join(str((f / module).relative_to(folder)) for f in found[:10])
        raise SubmissionLayoutError(
            f"{folder} holds {len(found)} copies of {module} ({names}): keep one, or put it at "
            f"assignments/{assignment.folder.name}/{module} as in the template"
        )
    return found[0] if found else folder


def _looks_like_course(path: Path) -> bool:
    return (path / "assignments").is_dir()


def find_course_root(explicit: Path | str | None = None) -> Path:
    if explicit is None:
        explicit = os.environ.get(COURSE_ENV) or None
    if explicit is not None:
        root = Path(explicit).resolve()
        if not _looks_like_course(root):
            raise CourseError(f"{root} is not a course checkout (no assignments/ folder in it)")
        return root
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if _looks_like_course(candidate):
            return candidate
    installed = GRADER_PACKAGE.parent
    if _looks_like_course(installed):
        return installed
    raise CourseError(
        f"no course found: run inside a course checkout (a folder with assignments/), or pass --course DIR / set {COURSE_ENV}"
    )


@dataclass(frozen=True)
class Course:
    root: Path

    @classmethod
    def locate(cls, explicit: Path | str | None = None) -> Course:
        return cls(find_course_root(explicit))

    def assignment_folders(self) -> list[Path]:
        base = self.root / "assignments"
        return sorted(p for p in base.iterdir() if (p / SPEC_FILENAME).is_file())

    def assignments(self) -> list[Assignment]:
        return [self.load(p) for p in self.assignment_folders()]

    def load(self, folder: Path) -> Assignment:
        return Assignment(spec=load_spec(folder), folder=folder, course_root=self.root)

    def resolve(self, ident: str) -> Assignment:
        """Find an assignment by folder name or short prefix: `a1` finds `a1_speedup`."""
        folders = self.assignment_folders()
        names = [p.name for p in folders]
        exact = [p for p in folders if p.name == ident]
        if not exact:
            exact = [p for p in folders if p.name.startswith(ident + "_") or p.name.split("_")[0] == ident]
        if not exact:
            exact = [p for p in folders if p.name.startswith(ident)]
        if len(exact) == 1:
            return self.load(exact[0])
        if not exact:
            known = ", ".join(names) or "none"
            raise CourseError(f"no assignment {ident!r} in {self.root / 'assignments'} (known: {known})")
        raise CourseError(f"{ident!r} is ambiguous: {', '.join(p.name for p in exact)}")
