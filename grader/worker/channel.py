"""The worker's end of the result channel (protocol: `grader.core.channel`)."""

from __future__ import annotations

import os
from typing import Any

from ..core.channel import CHANNEL_ENV, encode


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
        data = encode(self._secret, event, payload)
        while data:
            written = os.write(self._fd, data)
            data = data[written:]
