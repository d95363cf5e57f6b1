"""The daemon process lifecycle: single instance, stale sockets, pid file, signals, background start.

The subprocess tests run a small daemon (the real lifecycle and IpcServer around a trivial dispatch) so that
they need no model; `tests/cli/test_daemon_cli.py` runs the real `onevox daemon` with the model.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from onevox.daemon.lifecycle import (
    DaemonAlreadyRunning,
    InstanceLock,
    RuntimeFiles,
    read_pid,
    running_pid,
    wait_for_exit,
)
from onevox.errors import IpcError
from onevox.ipc.client import DaemonNotRunning, IpcClient
from tests.ipc.doubles import WAIT_S, short_tmp_dir

CHILD = r"""
import json, os, sys, threading, time
from pathlib import Path
from onevox.daemon import lifecycle
from onevox.errors import OnevoxError
from onevox.ipc.server import IpcServer

sock, mode = Path(sys.argv[1]), sys.argv[2]
files = lifecycle.RuntimeFiles.for_socket(sock)

def serve(ready):
    if mode.endswith("fail"):
        raise OnevoxError("model tiny.xx not found; see `onevox models list`")
    stop = threading.Event()
    if not mode.endswith("nohandlers"):
        lifecycle.install_signal_handlers(stop.set, on_reload=lambda: print("reloaded", flush=True))
    def dispatch(cmd, args):
        if cmd == "shutdown":
            stop.set()
        return {"cmd": cmd, "pid": os.getpid()}
    try:
        with IpcServer(sock, dispatch):
            ready()
            while not stop.wait(0.05):
                pass
    finally:
        print("clean exit", flush=True)

try:
    if mode.startswith("fg"):
        lifecycle.run_foreground(files, serve, on_ready=lambda: print("ready", flush=True))
    else:
        outcome = lifecycle.start_background(files, serve, Path(sys.argv[3]), timeout_s=60)
        print(json.dumps({"pid": outcome.pid, "error": outcome.error}), flush=True)
except OnevoxError as exc:
    print(f"error: {exc}", file=sys.stderr, flush=True)
    sys.exit(1)
"""


class Child:
    """A daemon subprocess whose stdout lines can be awaited."""

    def __init__(self, files: RuntimeFiles, mode: str, *extra: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, str(files.socket), mode, *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("<eof>")

    def expect(self, wanted: str) -> None:
        seen = []
        while True:
            try:
                line = self.lines.get(timeout=WAIT_S)
            except queue.Empty:
                raise AssertionError(f"never printed {wanted!r}; got {seen}") from None
            if line == wanted:
                return
            if line == "<eof>":
                stderr = self.proc.stderr.read() if self.proc.stderr else ""
                raise AssertionError(f"exited before {wanted!r}; got {seen}; stderr: {stderr}")
            seen.append(line)

    def finish(self) -> tuple[int, str]:
        """Wait for the exit; stdout lines stay in `lines` (only the reader thread reads stdout)."""
        code = self.proc.wait(WAIT_S)
        self._reader.join(WAIT_S)
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(WAIT_S)
        self._reader.join(WAIT_S)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def files() -> Iterator[RuntimeFiles]:
    with short_tmp_dir() as folder:
        yield RuntimeFiles.for_socket(folder / "run" / "onevox.sock")


@pytest.fixture
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    yield started
    for child in started:
        child.kill()


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _leave_stale_socket(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(os.fspath(path))
    sock.close()


# ---- in-process ----------------------------------------------------------------------------------------


def test_runtime_files_sit_beside_the_socket(tmp_path: Path) -> None:
    files = RuntimeFiles.for_socket(tmp_path / "onevox.sock")
    assert (files.lock, files.pid) == (tmp_path / "onevox.lock", tmp_path / "onevox.pid")


def test_second_lock_is_refused_naming_the_pid(files: RuntimeFiles) -> None:
    first = InstanceLock(files)
    first.acquire()
    first.write_pid()
    assert _mode(files.lock) == 0o600 and _mode(files.pid) == 0o600 and _mode(files.lock.parent) == 0o700
    with pytest.raises(DaemonAlreadyRunning, match=rf"already running \(pid {os.getpid()}\).*onevox stop"):
        InstanceLock(files).acquire()
    first.release()
    assert not files.pid.exists()
    with InstanceLock(files):
        pass


def test_running_pid_and_wait_for_exit(files: RuntimeFiles) -> None:
    assert running_pid(files) is None
    lock = InstanceLock(files)
    lock.acquire()
    assert running_pid(files) == 0  # locked, pid file not written yet
    lock.write_pid()
    assert running_pid(files) == os.getpid() == read_pid(files)
    assert wait_for_exit(files, 0.1) is False
    lock.release()
    assert running_pid(files) is None
    assert wait_for_exit(files, 0.1) is True


def test_lock_removes_a_stale_socket(files: RuntimeFiles) -> None:
    _leave_stale_socket(files.socket)
    with InstanceLock(files):
        assert not files.socket.exists()


def test_lock_never_takes_over_a_live_socket(files: RuntimeFiles) -> None:
    files.socket.parent.mkdir(parents=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(os.fspath(files.socket))
        listener.listen(1)
        with pytest.raises(IpcError, match="already listening"):
            InstanceLock(files).acquire()
    assert running_pid(files) is None  # the failed acquire let the lock go


# ---- a real daemon process -----------------------------------------------------------------------------


def test_foreground_daemon_single_instance_signals(files: RuntimeFiles, children: list[Child]) -> None:
    daemon = Child(files, "fg")
    children.append(daemon)
    daemon.expect("ready")
    assert IpcClient(files.socket).request("ping")["pid"] == daemon.proc.pid
    assert read_pid(files) == daemon.proc.pid == running_pid(files)

    second = Child(files, "fg")
    children.append(second)
    code, err = second.finish()
    assert code == 1 and f"already running (pid {daemon.proc.pid})" in err

    daemon.proc.send_signal(signal.SIGHUP)
    daemon.expect("reloaded")
    daemon.proc.send_signal(signal.SIGTERM)
    daemon.expect("clean exit")
    assert daemon.finish()[0] == 0
    assert not files.socket.exists() and not files.pid.exists() and running_pid(files) is None


@pytest.mark.parametrize("mode", ["fg", "fg-nohandlers"])
def test_sigint_and_plain_sigterm_exit_cleanly(files: RuntimeFiles, children: list[Child], mode: str) -> None:
    daemon = Child(files, mode)
    children.append(daemon)
    daemon.expect("ready")
    daemon.proc.send_signal(signal.SIGINT if mode == "fg" else signal.SIGTERM)
    daemon.expect("clean exit")
    assert daemon.finish()[0] == 0
    assert not files.socket.exists() and running_pid(files) is None


def test_restart_after_sigkill_removes_the_stale_socket(files: RuntimeFiles, children: list[Child]) -> None:
    killed = Child(files, "fg")
    children.append(killed)
    killed.expect("ready")
    killed.proc.kill()
    killed.finish()
    assert stat.S_ISSOCK(os.lstat(files.socket).st_mode)  # left behind
    with pytest.raises(DaemonNotRunning):
        IpcClient(files.socket).request("ping")

    daemon = Child(files, "fg")
    children.append(daemon)
    daemon.expect("ready")
    assert IpcClient(files.socket).request("shutdown")["pid"] == daemon.proc.pid
    daemon.expect("clean exit")
    assert daemon.finish()[0] == 0


def test_background_start_returns_once_the_daemon_answers(files: RuntimeFiles, children: list[Child]) -> None:
    log_path = files.socket.parent.parent / "state" / "daemon.log"
    starter = Child(files, "bg", str(log_path))
    children.append(starter)
    code, err = starter.finish()
    assert code == 0, err
    outcome = json.loads(starter.lines.get(timeout=WAIT_S))
    pid = outcome["pid"]
    try:
        assert outcome["error"] == "" and pid not in (0, starter.proc.pid)
        assert IpcClient(files.socket).request("ping")["pid"] == pid == read_pid(files)
        assert _mode(log_path) == 0o600

        again = Child(files, "bg", str(log_path))
        children.append(again)
        code, err = again.finish()
        assert code == 1 and f"already running (pid {pid})" in err
    finally:
        IpcClient(files.socket).request("shutdown")
    assert wait_for_exit(files, WAIT_S)
    assert "clean exit" in log_path.read_text()
    assert not files.socket.exists() and not files.pid.exists()


def test_background_start_reports_why_the_daemon_failed(files: RuntimeFiles, children: list[Child]) -> None:
    log_path = files.socket.parent.parent / "daemon.log"
    starter = Child(files, "bg-fail", str(log_path))
    children.append(starter)
    assert starter.finish()[0] == 0
    outcome = json.loads(starter.lines.get(timeout=WAIT_S))
    assert outcome["error"] == "model tiny.xx not found; see `onevox models list`"
    assert wait_for_exit(files, WAIT_S)
    assert not files.pid.exists()
    assert "model tiny.xx not found" in log_path.read_text()
