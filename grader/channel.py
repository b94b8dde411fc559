"""The result channel between the grading worker and the parent.

The worker inherits the write end of a pipe, and the read end of a second pipe that holds a
per-run secret: the plugin reads the secret and closes that pipe when it loads, before any student
code is imported, so the secret is not in the environment, in /proc or in any file. Every message
is one JSON line prefixed with the secret; the parent ignores lines without it. Stdout, stderr,
files and the exit code of the worker are never read as results.

Code running inside the worker process could still find the plugin's writer object in memory and
send a record itself; the parent therefore accepts exactly one record per expected test and treats
a second one for the same test as forgery (see `sandbox.py`).
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

CHANNEL_ENV = "PARLAB_CHANNEL"


def new_secret() -> str:
    return secrets.token_hex(16)


class ParentChannel:
    """Parent side of one worker run: the result pipe and the pipe that hands over the secret."""

    def __init__(self) -> None:
        self.secret = new_secret()
        self.read_fd, self.write_fd = os.pipe()
        secret_read, secret_write = os.pipe()
        os.write(secret_write, self.secret.encode())
        os.close(secret_write)
        self.secret_fd = secret_read
        for fd in (self.write_fd, self.secret_fd):
            os.set_inheritable(fd, True)

    @property
    def child_fds(self) -> tuple[int, int]:
        return (self.write_fd, self.secret_fd)

    @property
    def env(self) -> dict[str, str]:
        return {CHANNEL_ENV: f"{self.write_fd}:{self.secret_fd}"}

    def close_child_ends(self) -> None:
        """After the worker started: from then on, EOF on read_fd means every worker process is done."""
        for fd in self.child_fds:
            os.close(fd)


class ChannelWriter:
    """Worker side: send events to the parent, or nowhere when run outside the grader."""

    def __init__(self) -> None:
        raw = os.environ.pop(CHANNEL_ENV, "")
        self._fd: int | None = None
        self._secret = ""
        if raw:
            fd, secret_fd = (int(v) for v in raw.split(":", 1))
            chunks = []
            while chunk := os.read(secret_fd, 4096):
                chunks.append(chunk)
            os.close(secret_fd)
            self._secret = b"".join(chunks).decode()
            self._fd = fd

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
