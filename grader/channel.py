"""The result channel between the grading worker and the parent.

The worker inherits the write end of a pipe; its number and a per-run secret arrive in one
environment variable that the plugin removes before any student code is imported. Every message is
one JSON line prefixed with the secret; the parent ignores lines without it. Stdout, stderr, files
and the exit code of the worker are never read as results.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

CHANNEL_ENV = "PARLAB_CHANNEL"


def new_secret() -> str:
    return secrets.token_hex(16)


def channel_env(fd: int, secret: str) -> dict[str, str]:
    return {CHANNEL_ENV: f"{fd}:{secret}"}


class ChannelWriter:
    """Worker side: send events to the parent, or nowhere when run outside the grader."""

    def __init__(self) -> None:
        raw = os.environ.pop(CHANNEL_ENV, "")
        self._fd: int | None = None
        self._secret = ""
        if raw:
            fd, self._secret = raw.split(":", 1)
            self._fd = int(fd)

    @property
    def connected(self) -> bool:
        return self._fd is not None

    def send(self, event: str, **payload: Any) -> None:
        if self._fd is None:
            return
        line = self._secret + json.dumps({"event": event, **payload}, default=str) + "\n"
        data = line.encode()
        while data:
            written = os.write(self._fd, data)
            data = data[written:]


def parse_line(line: str, secret: str) -> dict[str, Any] | None:
    """Parent side: one event, or None for a line that does not carry the secret."""
    if not line.startswith(secret):
        return None
    try:
        event = json.loads(line[len(secret) :])
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) and "event" in event else None
