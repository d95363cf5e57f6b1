"""Run a call in a forked child with a deadline, and measure how much memory it took.

A hang becomes a failed test (the child is killed at the deadline), not a stuck suite; the child's peak
resident memory (ru_maxrss from wait4) minus its RSS when it started is the memory the call itself needed.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Outcome:
    kind: str  # "ok" (value holds the summary), or the exception's class name
    value: Any  # fn's result (it must pickle) or the exception's message
    seconds: float
    peak_growth_mb: float  # peak RSS during the call minus RSS before it


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def run_bounded(fn: Callable[[], Any], timeout: float) -> Outcome:
    """fn() in a child process; AssertionError when it runs past `timeout` seconds or dies."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(read_fd)
            before = _rss_kb()
            start = time.monotonic()
            try:
                result: tuple[str, Any] = ("ok", fn())
            except BaseException as exc:  # reported to the parent, which judges it
                result = (type(exc).__name__, str(exc))
            data = pickle.dumps((*result, time.monotonic() - start, before))
            os.write(write_fd, data)
        except BaseException:
            code = 3
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise AssertionError(f"still running after {timeout:g} s (a hang)")
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
    _pid, status, usage = os.wait4(pid, 0)
    if not chunks or os.waitstatus_to_exitcode(status) != 0:
        raise AssertionError(f"the child died (status {status}): out of memory or a crash")
    kind, value, seconds, before = pickle.loads(b"".join(chunks))
    return Outcome(kind, value, seconds, round((usage.ru_maxrss - before) / 1024, 1))
