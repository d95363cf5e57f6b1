"""Run a piece of a test as another user (we are root here): a forked child drops to `uid` and reports."""

from __future__ import annotations

import os
from collections.abc import Callable

NOBODY = 65534


def run_as(uid: int, work: Callable[[], bytes]) -> bytes:
    """`work()` in a forked child running as `uid` (and gid `uid`, no supplementary groups); returns the bytes
    it produced. The child leaves with os._exit, so nothing of the test process runs twice."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.write(write_fd, work())
        finally:
            os._exit(0)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    return b"".join(chunks)
