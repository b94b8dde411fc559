"""git, run the one way the grader runs it: never prompting, bounded in time, its error kept whole."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

TIMEOUT_S = 300


class GitError(Exception):
    """git failed, is missing, or took too long; ``stderr`` is git's own text, ``lines`` its non-empty lines."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr
        self.lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]

    def summary(self, keep: int = 4, limit: int = 400) -> str:
        """git's last few lines on one line: its last line alone ("and the repository exists.") says nothing."""
        return " ".join(self.lines[-keep:])[-limit:] if self.lines else str(self)


def git(*args: str, cwd: Path | None = None, timeout: float = TIMEOUT_S) -> str:
    """Run git; its stdout, stripped. Raises GitError for any failure."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}  # never hang on a password prompt
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than {timeout:g} s") from None
    if done.returncode != 0:
        raise GitError(f"git {' '.join(args[:2])} failed (exit code {done.returncode})", done.stderr or "")
    return done.stdout.strip()
