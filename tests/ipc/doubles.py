"""Test doubles and socket helpers for the IPC tests (also used by the daemon CLI tests and the fuzz harness).

FakeController stands in for daemon/controller.Controller.dispatch; the real controller is wired to the real
IpcServer in the daemon's own tests and in the `onevox daemon` model test.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from onevox.errors import OnevoxError

WAIT_S = 10.0  # deadline for things that must happen; a hang fails the test instead of blocking the suite


@contextmanager
def short_tmp_dir() -> Iterator[Path]:
    """A fresh folder under /tmp: pytest's tmp_path can be too long for a Unix socket path (107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="ovx-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class FakeController:
    """Answers IPC commands like the controller; `toggle` waits on `gate` so tests can hold it mid-command."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()  # set when a gated command is waiting
        self.on_shutdown: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def dispatch(self, cmd: str, args: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append((cmd, dict(args)))
        if cmd == "status":
            return {"state": "idle", "model": "tiny.en", "device": "default", "uptime_s": 3723.4,
                    "rss_mb": 181.25, "pid": os.getpid(), "version": "0.1.0", "dictations": 2,
                    "latencies": {"inference": {"count": 2, "p50": 84.5, "p95": 120.0, "last": 90.0}},
                    "echo": args}
        if cmd == "toggle":
            self.entered.set()
            if not self.gate.wait(WAIT_S):
                raise TimeoutError("the test never opened the gate")
            return {"state": "recording"}
        if cmd == "cancel":
            raise OnevoxError("nothing to cancel: no dictation is running")
        if cmd == "shutdown" and self.on_shutdown is not None:
            self.on_shutdown()
        return {"state": "idle", "cmd": cmd}

    def commands(self) -> list[str]:
        with self._lock:
            return [cmd for cmd, _ in self.calls]


class ListSubscription:
    """A subscription that hands out the given events, then blocks; records close()."""

    def __init__(self, events: Iterable[dict[str, Any]]) -> None:
        self._events = iter(events)
        self.closed = threading.Event()

    def get(self, timeout: float | None = None) -> dict[str, Any] | None:
        if self.closed.is_set():
            raise RuntimeError("closed")
        event = next(self._events, None)
        if event is None:
            self.closed.wait(timeout)
        return event

    def close(self) -> None:
        self.closed.set()


def connect(path: Path, timeout: float = WAIT_S) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(os.fspath(path))
    return sock


def exchange(path: Path, data: bytes, timeout: float = WAIT_S) -> list[bytes]:
    """Send raw bytes, close our sending side, and return every line the server sent before it closed."""
    with connect(path, timeout) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server already answered (too_large) and closed: read what it sent
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return [line for line in b"".join(chunks).split(b"\n") if line]


def exchange_json(path: Path, data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in exchange(path, data)]


def request_line(request_id: int, cmd: str, **args: Any) -> bytes:
    return json.dumps({"v": 1, "id": request_id, "cmd": cmd, **args}).encode() + b"\n"
