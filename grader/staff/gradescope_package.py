"""Package an assignment as a Gradescope autograder zip (instructor only: it holds hidden tests).

The zip's root holds `setup.sh` and `run_autograder` (from ci/gradescope/) and `course/`: the grader
package and this assignment's folder, hidden tests and solution (timed alongside the submission
as the reference). Gradescope unpacks it to /autograder/source.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from string import Template

from ..core.course import Assignment

TEMPLATES = Path("ci/gradescope")
EXECUTABLE = 0o100755 << 16
REGULAR = 0o100644 << 16


def _course_files(assignment: Assignment) -> list[tuple[Path, str]]:
    root = assignment.course_root
    picked = [root / "pyproject.toml", root / "README.md"]
    for folder in (root / "grader", assignment.folder, assignment.hidden_dir, assignment.solution_dir):
        if folder.is_dir():
            picked += [p for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    return [(p, "course/" + str(p.relative_to(root))) for p in picked]


def build_gradescope_zip(assignment: Assignment, out: Path) -> list[str]:
    """Write the autograder zip; returns the names inside it."""
    templates = assignment.course_root / TEMPLATES
    values = {"parlab_assignment": assignment.id.split("_")[0], "parlab_module": assignment.spec.module}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    names = []
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for script in ("setup.sh", "run_autograder"):
            info = zipfile.ZipInfo(script)
            info.external_attr = EXECUTABLE
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, Template((templates / script).read_text()).safe_substitute(values))
            names.append(script)
        for path, name in _course_files(assignment):
            info = zipfile.ZipInfo(name)
            info.external_attr = REGULAR
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, path.read_bytes())
            names.append(name)
    tmp.replace(out)
    return names
