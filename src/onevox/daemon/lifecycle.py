"""The daemon as a well-behaved process: one instance per user (flock), a pid file, stale sockets from a
killed daemon cleaned up, signals turned into shutdown/reload, and a background start whose parent returns
only when the daemon answers (or with the reason it could not start)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import platformdirs

from onevox import paths
from onevox.errors import OnevoxError
from onevox.ipc.sockets import prepare_socket_dir, remove_stale_socket

log = logging.getLogger(__name__)

# serve(ready) builds the daemon, calls ready() once it answers, and blocks until it is shut down
Serve = Callable[[Callable[[], None]], None]

LOG_ROTATE_BYTES = 5 * 1024 * 1024
START_TIMEOUT_S = 300.0  # loading a large model on a slow machine can take minutes


class DaemonAlreadyRunning(OnevoxError):
    """Another daemon holds the instance lock."""


@dataclass(frozen=True)
class RuntimeFiles:
    socket: Path  # the IPC socket
    lock: Path  # flock'd by the running daemon for its whole life
    pid: Path  # the running daemon's process id

    @classmethod
    def for_socket(cls, socket_path: Path) -> RuntimeFiles:
        """Lock and pid file live beside the socket, so a daemon on another socket is another instance."""
        folder, stem = socket_path.parent, socket_path.stem
        return cls(socket=socket_path, lock=folder / f"{stem}.lock", pid=folder / f"{stem}.pid")


def default_log_path() -> Path:
    """Where a background daemon's output goes: $XDG_STATE_HOME/onevox/daemon.log."""
    return Path(platformdirs.user_state_dir(paths.APP)) / "daemon.log"


class InstanceLock:
    """An exclusive flock on `files.lock`: held by exactly one daemon, released by the kernel if it dies."""

    def __init__(self, files: RuntimeFiles) -> None:
        self.files = files
        self._fd: int | None = None
        self._owner_pid = 0  # the process that wrote the pid file; only it unlocks and removes files

    def acquire(self) -> None:
        """Take the lock or raise DaemonAlreadyRunning naming the running PID; then remove a stale socket."""
        prepare_socket_dir(self.files.lock.parent)
        fd = os.open(self.files.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = read_pid(self.files)
            who = f"pid {pid}" if pid else "pid unknown"
            raise DaemonAlreadyRunning(f"onevox daemon is already running ({who}); stop it with `onevox stop`"
                                       ) from None
        self._fd = fd
        try:
            # nobody else holds the lock, so a socket left here belongs to a daemon that was killed
            remove_stale_socket(self.files.socket)
        except BaseException:
            self.release()
            raise

    def write_pid(self) -> None:
        """Record this process as the daemon (call it in the final process, after any fork)."""
        if self._fd is None:
            raise RuntimeError("write_pid() before acquire()")
        self._owner_pid = os.getpid()
        tmp = self.files.pid.with_name(self.files.pid.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"{self._owner_pid}\n")
        os.replace(tmp, self.files.pid)

    def release(self) -> None:
        """Unlock and remove the pid file in the daemon; in any other process (the parent that forked the
        daemon) only close this copy of the descriptor, which leaves the daemon's lock in place."""
        if self._fd is None:
            return
        if self._owner_pid == os.getpid():
            if read_pid(self.files) == self._owner_pid:
                self.files.pid.unlink(missing_ok=True)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_pid(files: RuntimeFiles) -> int | None:
    try:
        text = files.pid.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def running_pid(files: RuntimeFiles) -> int | None:
    """The daemon's pid while one holds the lock (0 when its pid file is missing); None when none runs."""
    try:
        fd = os.open(files.lock, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_pid(files) or 0
    finally:
        os.close(fd)  # also drops the shared lock if we got it
    return None


def wait_for_exit(files: RuntimeFiles, timeout_s: float) -> bool:
    """True once no daemon holds the lock; False if one still does after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while running_pid(files) is not None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


# ---- signals -------------------------------------------------------------------------------------------


def install_signal_handlers(on_shutdown: Callable[[], None], on_reload: Callable[[], None] | None = None
                            ) -> None:
    """SIGTERM/SIGINT call `on_shutdown` (a second one exits at once); SIGHUP calls `on_reload`, or is
    ignored without one. Handlers run on the main thread: the callbacks must only signal, never wait."""
    signals_seen = 0

    def terminate(signum: int, _frame: FrameType | None) -> None:
        nonlocal signals_seen
        signals_seen += 1
        name = signal.Signals(signum).name
        if signals_seen > 1:
            log.warning("%s again while stopping: exiting now", name)
            os._exit(128 + signum)
        log.info("%s: shutting down", name)
        on_shutdown()

    def reload(_signum: int, _frame: FrameType | None) -> None:
        if on_reload is None:
            log.info("SIGHUP ignored: this daemon has no reload")
        else:
            log.info("SIGHUP: reloading")
            on_reload()

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    signal.signal(signal.SIGHUP, reload)


def _interrupt_main() -> None:
    raise KeyboardInterrupt


def _install_fallback_handlers() -> None:
    """Until the daemon installs its own handlers, SIGTERM unwinds the main thread like Ctrl-C, so its
    `finally` blocks (socket removal, history close) still run."""
    if threading.current_thread() is threading.main_thread():
        install_signal_handlers(_interrupt_main)


# ---- running -------------------------------------------------------------------------------------------


def run_foreground(files: RuntimeFiles, serve: Serve, on_ready: Callable[[], None] | None = None) -> None:
    """Run the daemon in this process; returns when it has shut down. Raises DaemonAlreadyRunning."""
    lock = InstanceLock(files)
    lock.acquire()
    try:
        lock.write_pid()
        _install_fallback_handlers()
        with contextlib.suppress(KeyboardInterrupt):
            serve(on_ready or (lambda: None))
    finally:
        lock.release()


@dataclass(frozen=True)
class StartOutcome:
    pid: int  # the daemon's process id (0 when it never reported one)
    error: str  # '' when the daemon started and answers; otherwise what went wrong


def start_background(files: RuntimeFiles, serve: Serve, log_path: Path,
                     timeout_s: float = START_TIMEOUT_S) -> StartOutcome:
    """Start the daemon detached (double fork, new session, output to `log_path`) and wait until it
    answers on its socket. Returns only in the calling process; the daemon process never returns."""
    lock = InstanceLock(files)
    lock.acquire()  # in the parent, so "already running" is reported here at once
    try:
        log_path = _prepare_log(log_path)
    except OSError as exc:
        lock.release()
        raise OnevoxError(f"cannot write the daemon log {log_path}: {exc.strerror or exc}") from exc
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:
        os.close(read_fd)
        _become_daemon(lock, serve, log_path, write_fd)  # never returns
    os.close(write_fd)
    os.waitpid(child, 0)  # the intermediate child exits as soon as it has forked the daemon
    lock.release()  # closes our copy only: the daemon keeps the lock
    outcome = _await_start(read_fd, timeout_s, log_path)
    os.close(read_fd)
    if not outcome.error:
        outcome = _check_answers(files, outcome)
    return outcome


def _become_daemon(lock: InstanceLock, serve: Serve, log_path: Path, write_fd: int) -> None:
    code = 1
    try:
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        _redirect_stdio(log_path)
        code = _run_detached(lock, serve, log_path, _ReadyPipe(write_fd))
    finally:
        logging.shutdown()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _run_detached(lock: InstanceLock, serve: Serve, log_path: Path, pipe: _ReadyPipe) -> int:
    try:
        lock.write_pid()
        pipe.send(f"pid {os.getpid()}")
        _install_fallback_handlers()
        serve(pipe.ready)
        return 0
    except KeyboardInterrupt:
        return 0
    except OnevoxError as exc:
        log.error("%s", exc)
        pipe.failed(str(exc))
        return exc.exit_code
    except BaseException as exc:
        log.exception("the daemon failed")
        pipe.failed(f"unexpected error ({type(exc).__name__}: {exc}); see {log_path}")
        return 1
    finally:
        pipe.close()
        lock.release()


class _ReadyPipe:
    """The daemon's end of the start-up pipe: one line each, "pid N", then "ready" or "error MESSAGE"."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def send(self, line: str) -> None:
        if self._fd is None:
            return
        try:
            os.write(self._fd, (line.replace("\n", " ") + "\n").encode())
        except OSError:  # the waiting parent is gone (killed): nothing to tell
            self.close()

    def ready(self) -> None:
        self.send("ready")
        self.close()

    def failed(self, message: str) -> None:
        self.send(f"error {message}")
        self.close()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _await_start(read_fd: int, timeout_s: float, log_path: Path) -> StartOutcome:
    deadline = time.monotonic() + timeout_s
    buffer, pid = b"", 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([read_fd], [], [], remaining)[0]:
            return StartOutcome(pid, f"the daemon (pid {pid}) is still starting after {timeout_s:g} s; "
                                     f"see {log_path} and `onevox status`")
        chunk = os.read(read_fd, 4096)
        if not chunk:
            return StartOutcome(pid, f"the daemon exited while starting; see {log_path}")
        buffer += chunk
        while b"\n" in buffer:
            raw, buffer = buffer.split(b"\n", 1)
            line = raw.decode(errors="replace")
            if line.startswith("pid "):
                pid = int(line[4:])
            elif line == "ready":
                return StartOutcome(pid, "")
            elif line.startswith("error "):
                return StartOutcome(pid, line[6:])


def _check_answers(files: RuntimeFiles, outcome: StartOutcome) -> StartOutcome:
    from onevox.ipc.client import IpcClient

    try:
        IpcClient(files.socket, timeout=5.0).request("ping")
    except OnevoxError as exc:
        return StartOutcome(outcome.pid, f"the daemon said it was ready but does not answer: {exc}")
    return outcome


def _prepare_log(log_path: Path) -> Path:
    paths.ensure_private_dir(log_path.parent)
    with contextlib.suppress(FileNotFoundError):
        if log_path.stat().st_size > LOG_ROTATE_BYTES:
            os.replace(log_path, log_path.with_name(log_path.name + ".1"))
    return log_path


def _redirect_stdio(log_path: Path) -> None:
    """stdin from /dev/null; stdout and stderr appended to the log (the terminal may close any time)."""
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(null)
    os.close(out)


def configure_logging(level: str) -> None:
    """Log lines with time and source to stderr (the log file once detached)."""
    logging.basicConfig(level=level.upper(), stream=sys.stderr, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
