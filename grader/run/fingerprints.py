"""The parent's integrity checks: the course on disk before and after a grading, and released files.

`course_fingerprint` hashes the course's files before and after a grading (a submission that
rewrote a hidden test or the grader on disk would poison every later grading), and
`protected_changes` lists released files a student changed in their repository. The worker's side
is `grader.worker.tamper_guard`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable


def course_fingerprint(paths: Iterable[Path]) -> dict[str, str]:
    """Content hash of every file under the given folders (missing folders contribute nothing)."""
    out: dict[str, str] = {}
    for root in paths:
        root = Path(root)
        if not root.exists():
            continue
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for f in files:
            try:
                out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
            except OSError:
                out[str(f)] = "unreadable"
    return out


def fingerprint_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    changed = [p for p in before if after.get(p) != before[p]]
    added = [p for p in after if p not in before]
    return [f"changed: {p}" for p in changed] + [f"added: {p}" for p in added]


MANIFEST_PATH = Path(".parlab/manifest.json")  # written by `grader release` into every student repository


def find_manifest(submission: Path, levels: int = 3) -> Path | None:
    """The release manifest of the student repository holding ``submission`` (it or a parent, up to its git root)."""
    for folder in [submission, *submission.resolve().parents][: levels + 1]:
        if (folder / MANIFEST_PATH).is_file():
            return folder / MANIFEST_PATH
        if (folder / ".git").exists():
            return None
    return None


def manifest_changes(manifest: Path, course_version: str | None = None) -> list[str]:
    """Protected files of a released repository that were deleted or changed since the release (by SHA-256)."""
    repo = manifest.parent.parent
    try:
        data = json.loads(manifest.read_text())
        protected = dict(data["protected"])
    except (OSError, ValueError, KeyError, TypeError):
        return [f"the release manifest {MANIFEST_PATH} is unreadable: protected files could not be checked"]
    out = []
    if course_version is not None and data.get("version") != course_version:
        out.append(f"released as version {data.get('version')}, graded with version {course_version} of the assignment")
    for rel, digest in sorted(protected.items()):
        path = repo / rel
        if not path.is_file():
            out.append(f"protected file {rel} was deleted")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            out.append(f"protected file {rel} was modified (grading used the course's copy)")
    return out


def protected_changes(released: Iterable[Path], submission: Path, course_version: str | None = None) -> list[str]:
    """Released files (public tests, spec, handout, workflow, grader) that differ in the student's repository.

    A repository made by `grader release` is checked against its manifest; a bare folder laid out
    like one (it holds at least one released file) against the course's copies by name. Grading
    never uses the student's copies, so a change costs nothing by itself, but a TA should look.
    """
    manifest = find_manifest(submission)
    if manifest is not None:
        return manifest_changes(manifest, course_version)
    released = [Path(p) for p in released]
    present = [p for p in released if (submission / p.name).exists()]
    if not present:
        return []
    out = []
    for p in released:
        theirs = submission / p.name
        if not theirs.exists():
            out.append(f"protected file {p.name} was deleted")
        elif hashlib.sha256(theirs.read_bytes()).digest() != hashlib.sha256(p.read_bytes()).digest():
            out.append(f"protected file {p.name} was modified (grading used the course's copy)")
    return out
