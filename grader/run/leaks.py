"""Course-internal lines (hidden tests, solutions) and where they must never appear.

One rule for every check: a *secret line* is a stripped line of at least MIN_SECRET_LINE
characters of a course-internal file that no released file contains. `grader release` refuses a
student repository that holds one; the parent withholds a test message that quotes one (student
code may read a hidden file while it runs and print it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

MIN_SECRET_LINE = 20  # shorter lines (imports, `return out`) are too common to mean a leak


def secret_lines(secret_files: Iterable[Path], released_files: Iterable[Path]) -> dict[str, Path]:
    """Each secret line of ``secret_files``, with the file it comes from (the first, in the order given)."""
    released = "\n".join(Path(f).read_text(errors="replace") for f in released_files if Path(f).is_file())
    out: dict[str, Path] = {}
    for f in secret_files:
        if not Path(f).is_file():
            continue
        for line in Path(f).read_text(errors="replace").splitlines():
            line = line.strip()
            if len(line) >= MIN_SECRET_LINE and line not in out and line not in released:
                out[line] = Path(f)
    return out


def quotes_secret(text: str, secrets: Iterable[str]) -> list[str]:
    """The secret lines a text (a test message, a released file) quotes, anywhere in it."""
    return sorted(line for line in secrets if line in text)
