"""What the headless Wayland desktops of the tests (gnome.py: Mutter; kde.py: KWin) share: a fresh short
folder with a private session bus and runtime directory, processes started with their output in a log each
and stopped by PID in reverse order (never by name), and GTK3 target windows.

A subclass sets `error` (the exception a set-up problem raises), `prefix`, the compositor's `env`, and
starts its own processes in `_start`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar, Self

import pytest

from tests.support.gtk_window import GTK_ENV, GtkWindow, gtk_target_argv

START_TIMEOUT_S = 30.0


class HeadlessDesktop(ABC):
    error: ClassVar[type[RuntimeError]] = RuntimeError
    prefix: ClassVar[str] = "onevox-desktop-"
    desktop: ClassVar[str] = ""  # XDG_CURRENT_DESKTOP

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runtime = root / "run"
        self.home = root / "home"
        self.bus_address = f"unix:path={root / 'bus'}"
        self.wayland_display = f"onevox-{uuid.uuid4().hex[:8]}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    @property
    def env(self) -> dict[str, str]:
        """What a client of this desktop needs in its environment (and an injector in `environ`)."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.bus_address, "WAYLAND_DISPLAY": self.wayland_display,
                "XDG_RUNTIME_DIR": str(self.runtime), "XDG_SESSION_TYPE": "wayland",
                "XDG_CURRENT_DESKTOP": self.desktop}

    def child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env.update(self.env, HOME=str(self.home), NO_AT_BRIDGE="1")
        return env

    @classmethod
    @contextlib.contextmanager
    def start(cls, **start: object) -> Iterator[Self]:
        root = Path(tempfile.mkdtemp(prefix=cls.prefix))  # short: socket paths are limited to 108 bytes
        desktop = cls(root)
        try:
            desktop._start(**start)
            yield desktop
        finally:
            desktop.stop()
            shutil.rmtree(root, ignore_errors=True)

    @abstractmethod
    def _start(self, **options: object) -> None:
        """Start the desktop's own processes (after `_start_bus`)."""

    def wait(self, check: Callable[[], object], what: str, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise self.error(f"timed out after {timeout:g} s waiting for {what}")
            time.sleep(0.02)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.root / f"{name}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, env=env, cwd=self.root, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def _start_bus(self) -> dict[str, str]:
        """The folders and the private session bus; returns the environment for the desktop's processes."""
        self.runtime.mkdir(mode=0o700, exist_ok=True)
        self.home.mkdir(mode=0o700, exist_ok=True)
        env = self.child_env()
        self._spawn("dbus", ["dbus-daemon", "--config-file=/usr/share/dbus-1/session.conf", "--nofork",
                             "--nopidfile", f"--address={self.bus_address}"], env)
        self.wait(lambda: (self.root / "bus").exists(), "the D-Bus session bus")
        return env

    def _wait_started(self, proc: subprocess.Popen[bytes], ready: Callable[[], object], what: str) -> None:
        """Until `ready()` or `proc` exits; a set-up error with the logs' tails if it exits or times out."""
        try:
            self.wait(lambda: proc.poll() is not None or ready(), what)
        except self.error as exc:
            raise self.error(f"{exc}\n{self.log_tail()}") from exc
        if proc.poll() is not None:
            raise self.error(f"{Path(str(proc.args[0])).name} exited with {proc.returncode} "
                             f"(waiting for {what})\n{self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        parts = []
        for log in self.logs:
            with contextlib.suppress(OSError):
                tail = log.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {log.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def has_name(self, name: str) -> bool:
        """Whether `name` has an owner on the desktop's session bus."""
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        try:
            with open_dbus_connection(self.bus_address) as conn:
                return bool(conn.send_and_get_reply(message_bus.NameHasOwner(name), timeout=2).body[0])
        except (OSError, TimeoutError):
            return False

    def open_target(self, title: str, *, app_id: str = "onevox-target", terminal: bool = False) -> GtkWindow:
        """A GTK3 window with an empty text file, once it has the keyboard focus (the compositor focuses a new
        window itself). `app_id` and `terminal` as gtk_target_argv takes them."""
        path = self.root / f"{title}.txt"
        focused = Path(f"{path}.focused")
        for stale in (path, focused):  # an earlier window of this title: its files would answer for this one
            stale.unlink(missing_ok=True)
        argv = gtk_target_argv(title, path, app_id=app_id, terminal=terminal)
        proc = self._spawn(f"window-{title}", argv, {**self.child_env(), **GTK_ENV})
        self._wait_started(proc, path.exists, f"window {title!r}")
        # the keyboard focus comes after the map, later on a loaded machine: keys sent before it are lost
        self._wait_started(proc, focused.exists, f"window {title!r} to have the focus")
        return GtkWindow(title, path, proc)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs.clear()


def as_client(desktop: HeadlessDesktop, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process (and what it runs: wl-copy, ...) as a client of `desktop` for one test."""
    monkeypatch.delenv("DISPLAY", raising=False)
    for key, value in desktop.env.items():
        monkeypatch.setenv(key, value)
