"""The result channel between the grading worker and the parent.

The worker inherits the write end of a pipe, and the read end of a second pipe that holds a
per-run secret: the plugin reads the secret and closes that pipe when it loads, before any student
code is imported, so the secret is not in the environment, in /proc or in any file. Every message
is one JSON line prefixed with the secret; the parent ignores lines without it. Stdout, stderr,
files and the exit code of the worker are never read as results.

Code running inside the worker process could still find the plugin's writer object in memory and
send a record itself; the parent therefore accepts exactly one record per expected test and treats
a second one for the same test as forgery (see `grader.run.sandbox`).

This module is the protocol both ends share; `grader.run.channel` is the parent's end and
`grader.worker.channel` the worker's.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

CHANNEL_ENV = "PARLAB_CHANNEL"


def new_secret() -> str:
    return secrets.token_hex(16)


def encode(secret: str, event: str, payload: dict[str, Any]) -> bytes:
    """One event as the worker sends it: the secret, then one line of JSON."""
    return (secret + json.dumps({"event": event, **payload}, default=str) + "\n").encode()


def parse_line(line: str, secret: str) -> dict[str, Any] | None:
    """Parent side: one event, or None for a line that does not carry the secret."""
    if not line.startswith(secret):
        return None
    try:
        event = json.loads(line[len(secret) :])
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) and "event" in event else None
