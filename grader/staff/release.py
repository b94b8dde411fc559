"""Build the student template repository for one assignment, and prove nothing hidden leaks into it.

A released repository has the course's layout minus `solutions/` and `tests/hidden/`, so the same
`grader test a1` works in it:

    README.md                      how to set up and test (from ci/student/README.md)
    pyproject.toml                 installs the `grader` command and the course's dependencies
    .github/workflows/classroom.yml  public tests + CPU speedup on every push (ci/student/classroom.yml)
    .gitlab-ci.yml                 the same on GitLab, with a JUnit test report (ci/student/gitlab-ci.yml)
    .parlab/manifest.json          SHA-256 of every protected file, for the TA's grading to compare
    assignments/<id>/              handout, stub module, spec, public tests
    grader/                        the grader package (public code: students may read it)

The build happens in a scratch folder; only after the leak check passes is it committed (one
commit) and moved to `--out`. A leak leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from string import Template

from ..core.course import GRADER_PACKAGE, Assignment
from ..core.git import GitError
from ..core.git import git as run_git
from ..run.fingerprints import MANIFEST_PATH
from ..run.leaks import quotes_secret, secret_lines

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

WORKFLOW = Path(".github/workflows/classroom.yml")
GITLAB_CI = Path(".gitlab-ci.yml")  # the same checks for a course that hosts student repositories on GitLab
TEMPLATES = Path("ci/student")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".*", "scaffold")  # scaffold: staff-only templates


class ReleaseError(Exception):
    """The release could not be built, or it would leak course-internal material."""


@dataclass(frozen=True)
class Release:
    path: Path
    files: tuple[str, ...]  # relative paths, sorted
    protected: tuple[str, ...]
    commit: str


def build_release(assignment: Assignment, out: Path, *, force: bool = False) -> Release:
    """Write the student repository for ``assignment`` to ``out`` (a new folder, or replaced with ``force``)."""
    out = Path(out).resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not force:
            raise ReleaseError(f"{out} exists and is not empty: choose another --out, or pass --force to replace it")
        if out == assignment.course_root or out in assignment.course_root.parents:
            raise ReleaseError(f"refusing to replace {out}: it holds the course itself")
    with tempfile.TemporaryDirectory(prefix="parlab-release-", dir=out.parent if out.parent.is_dir() else None) as tmp:
        stage = Path(tmp) / "repo"
        _assemble(assignment, stage)
        leaks = find_leaks(stage, assignment)
        if leaks:
            shown = "\n".join(f"  {where}: {line[:100]}" for where, line in leaks[:10])
            raise ReleaseError(
                f"the release of {assignment.id} would contain {len(leaks)} line(s) of solutions or hidden tests; "
                f"nothing was written:\n{shown}"
            )
        protected = _write_manifest(stage, assignment)
        commit = _git_init(stage, f"{assignment.spec.title} ({assignment.id} {assignment.spec.version})")
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(stage), str(out))
    rel = [p.relative_to(out) for p in out.rglob("*") if p.is_file()]
    files = tuple(sorted(str(r) for r in rel if r.parts[0] != ".git"))
    return Release(path=out, files=files, protected=protected, commit=commit)


def release_leaks(assignment: Assignment) -> list[tuple[str, str]]:
    """What the student repository of ``assignment`` would leak (solution or hidden-test lines), without writing it."""
    with tempfile.TemporaryDirectory(prefix="parlab-release-check-") as tmp:
        stage = Path(tmp) / "repo"
        _assemble(assignment, stage)
        return find_leaks(stage, assignment)


def _assemble(assignment: Assignment, stage: Path) -> None:
    root = assignment.course_root
    templates = root / TEMPLATES
    if not templates.is_dir():
        raise ReleaseError(f"no student templates at {templates}")
    folder = assignment.folder.name
    shutil.copytree(assignment.folder, stage / "assignments" / folder, ignore=SKIP)
    shutil.copytree(GRADER_PACKAGE, stage / "grader", ignore=SKIP)
    values = {
        "parlab_assignment": assignment.id.split("_")[0],
        "parlab_folder": folder,
        "parlab_module": assignment.spec.module,
        "parlab_title": assignment.spec.title,
        "parlab_version": _pep440(assignment.spec.version),
        "parlab_project": f"parlab-{assignment.id.replace('_', '-')}",
        **_dependencies(root),
    }
    for template, target in (
        ("classroom.yml", WORKFLOW),
        ("gitlab-ci.yml", GITLAB_CI),
        ("pyproject.toml.in", Path("pyproject.toml")),
        ("README.md", Path("README.md")),
        ("gitignore", Path(".gitignore")),
    ):
        text = Template((templates / template).read_text()).substitute(values)
        (stage / target).parent.mkdir(parents=True, exist_ok=True)
        (stage / target).write_text(text)


def _pep440(version: str) -> str:
    return version if version[:1].isdigit() else "0.0.0"


def _dependencies(root: Path) -> dict[str, str]:
    """The course's runtime dependencies and its `gpu` extra, as TOML lines for the student's pyproject."""
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
        dependencies = list(project["dependencies"])
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise ReleaseError(
            f"{root / 'pyproject.toml'} with [project] dependencies is needed: the student repository's "
            f"pyproject.toml takes the course's dependencies from it ({type(exc).__name__}: {exc})"
        ) from None
    deps = ",\n".join(f"    {json.dumps(d)}" for d in dependencies)
    gpu = project.get("optional-dependencies", {}).get("gpu", [])
    return {"parlab_dependencies": deps, "parlab_extras": f"gpu = {json.dumps(gpu)}"}


def _protected_files(stage: Path, assignment: Assignment) -> list[Path]:
    """Everything the course owns: all of the release except the module students edit and the handout."""
    module = Path("assignments") / assignment.folder.name / assignment.spec.module_file
    editable = {module, Path("README.md"), Path(".gitignore")}
    return sorted(p.relative_to(stage) for p in stage.rglob("*") if p.is_file() and p.relative_to(stage) not in editable)


def _write_manifest(stage: Path, assignment: Assignment) -> tuple[str, ...]:
    files = {str(p): sha256(stage / p) for p in _protected_files(stage, assignment)}
    manifest = {
        "assignment": assignment.id,
        "version": assignment.spec.version,
        "module": f"assignments/{assignment.folder.name}/{assignment.spec.module_file}",
        "protected": files,
    }
    (stage / MANIFEST_PATH).parent.mkdir(parents=True, exist_ok=True)
    (stage / MANIFEST_PATH).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return tuple(files)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def find_leaks(tree: Path, assignment: Assignment) -> list[tuple[str, str]]:
    """(file, line) for every non-trivial line of a solution or hidden test found anywhere in ``tree``.

    Lines the course releases on purpose (the stub module, the public tests, the grader's own code)
    do not count: the stub shares its signatures and the staff serial reference with the solution.
    Whether the stub gives away the answer is `grader validate`'s check (the stub must score zero).
    """
    course = assignment.course_root
    secret_dirs = [course / "solutions", course / "tests" / "hidden"]
    secret_files = [p for d in secret_dirs if d.is_dir() for p in sorted(d.rglob("*")) if p.is_file()]
    released_on_purpose = [assignment.stub_module, *assignment.public_tests, *GRADER_PACKAGE.rglob("*.py")]
    secrets = {line: str(f.relative_to(course)) for line, f in secret_lines(secret_files, released_on_purpose).items()}
    leaks = []
    for p in sorted(tree.rglob("*")):
        if not p.is_file() or ".git" in p.relative_to(tree).parts:
            continue
        rel = str(p.relative_to(tree))
        if any(part in ("solutions", "hidden") for part in p.relative_to(tree).parts):
            leaks.append((rel, "(a solutions/ or hidden/ path)"))
            continue
        text = p.read_bytes().decode(errors="replace")
        found = quotes_secret(text, secrets)  # anywhere: quoted, commented, in a notebook's JSON
        leaks += [(rel, f"{line}   [from {secrets[line]}]") for line in found]
    return leaks


def _git_init(stage: Path, message: str) -> str:
    def git(*args: str) -> str:
        try:
            return run_git(*args, cwd=stage)
        except GitError as exc:
            detail = exc.summary() if exc.lines else "git is needed to make the release a repository"
            raise ReleaseError(f"{exc}: {detail}") from None

    git("init", "--quiet", "--initial-branch=main")
    git("add", "--all")
    git(
        "-c", "user.name=parlab release", "-c", "user.email=release@parlab.invalid", "-c", "commit.gpgsign=false",
        "commit", "--quiet", "-m", message,
    )  # fmt: skip
    return git("rev-parse", "HEAD")
