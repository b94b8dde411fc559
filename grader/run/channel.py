"""The parent's end of the result channel (protocol: `grader.core.channel`)."""

from __future__ import annotations

import os

from ..core.channel import CHANNEL_ENV, new_secret


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
