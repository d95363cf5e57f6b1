"""A headless GNOME Wayland desktop for tests: Mutter 43 on its own D-Bus session bus, GTK3 target windows.

    with HeadlessGnome.start() as gnome:
        window = gnome.open_target("editor")
        injector = RemoteDesktopInjector(cfg, environ=gnome.env)
        injector.inject("hello")
        window.wait_for_text("hello")

The arrangement: the test process (root) starts a private `dbus-daemon --session` listening on a socket in a
fresh 0700 runtime directory, then `mutter --wayland --headless --no-x11 --virtual-monitor 1280x720` on that
bus. Mutter 43 runs as root here, so no second user is needed, and the injector reaches Mutter's
RemoteDesktop service simply by being given that bus address (`gnome.env`). The GTK window (gtk_window.py,
shared with the sway rig) runs with the system Python (python3-gi) on Mutter's Wayland socket.

A headless seat has no keyboard, and GTK drops the very first key it is sent (it sets up its keyboard on that
key). A real desktop always has a keyboard that has been used, so the desktop keeps a RemoteDesktop session of
its own open for its whole life and taps Shift once, as a user would have long before dictating.

Everything started is remembered by PID and stopped in reverse order (never by name).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from jeepney import DBusAddress, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.wrappers import unwrap_msg

from tests.support.gtk_window import GTK_ENV, GtkWindow, gtk_target_argv, missing_gtk

REQUIRED_PROGRAMS = ("mutter", "dbus-daemon")
START_TIMEOUT_S = 20.0
SHIFT_L = 0xFFE1
BUS_NAME = "org.gnome.Mutter.RemoteDesktop"


class GnomeError(RuntimeError):
    """The headless GNOME desktop could not be set up (a test environment problem, not a product failure)."""


def missing_programs() -> list[str]:
    """What the headless GNOME desktop needs that is not installed, GTK's Python bindings included."""
    return [p for p in REQUIRED_PROGRAMS if shutil.which(p) is None] + missing_gtk()


def _wait(check: object, timeout: float, what: str) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise GnomeError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


class HeadlessGnome:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.runtime = root / "run"
        self.bus_address = f"unix:path={root / 'bus'}"
        self.wayland_display = f"onevox-{uuid.uuid4().hex[:8]}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self.keeper: DBusConnection | None = None

    @property
    def env(self) -> dict[str, str]:
        """What a client of this desktop needs in its environment (and the injector in `environ`)."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.bus_address, "WAYLAND_DISPLAY": self.wayland_display,
                "XDG_RUNTIME_DIR": str(self.runtime), "XDG_SESSION_TYPE": "wayland",
                "XDG_CURRENT_DESKTOP": "GNOME"}

    def child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env.update(self.env, HOME=str(self.root / "home"), NO_AT_BRIDGE="1")
        return env

    @classmethod
    @contextlib.contextmanager
    def start(cls) -> Iterator[HeadlessGnome]:
        # a short path: unix socket paths are limited to 108 bytes
        root = Path(tempfile.mkdtemp(prefix="onevox-gnome-"))
        gnome = cls(root)
        try:
            gnome._start()
            yield gnome
        finally:
            gnome.stop()
            shutil.rmtree(root, ignore_errors=True)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.root / f"{name}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def log_tail(self, lines: int = 15) -> str:
        parts = []
        for log in self.logs:
            with contextlib.suppress(OSError):
                tail = log.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {log.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def _start(self) -> None:
        self.runtime.mkdir(mode=0o700)
        (self.root / "home").mkdir(mode=0o700)
        env = self.child_env()
        self._spawn("dbus", ["dbus-daemon", "--config-file=/usr/share/dbus-1/session.conf", "--nofork",
                             "--nopidfile", f"--address={self.bus_address}"], env)
        _wait(lambda: (self.root / "bus").exists(), START_TIMEOUT_S, "the D-Bus session bus")
        mutter = self._spawn("mutter", ["mutter", "--wayland", "--headless", "--no-x11", "--virtual-monitor",
                                        "1280x720", f"--wayland-display={self.wayland_display}"], env)
        try:
            _wait(lambda: mutter.poll() is not None or self._service_ready(), START_TIMEOUT_S,
                  "Mutter's RemoteDesktop service")
        except GnomeError as exc:
            raise GnomeError(f"{exc}\n{self.log_tail()}") from exc
        if mutter.poll() is not None:
            raise GnomeError(f"mutter exited with {mutter.returncode}\n{self.log_tail()}")
        self._keep_keyboard()

    def _service_ready(self) -> bool:
        if not (self.runtime / self.wayland_display).exists():
            return False
        try:
            with open_dbus_connection(self.bus_address) as conn:
                return bool(conn.send_and_get_reply(message_bus.NameHasOwner(BUS_NAME), timeout=2).body[0])
        except (OSError, TimeoutError):
            return False

    def _keep_keyboard(self) -> None:
        """A RemoteDesktop session held for the desktop's life (its virtual keyboard stays in the seat), and
        one Shift tap through it (GTK loses the first key a seat ever sends)."""
        self.keeper = open_dbus_connection(self.bus_address)
        service = DBusAddress("/org/gnome/Mutter/RemoteDesktop", bus_name=BUS_NAME, interface=BUS_NAME)
        path = unwrap_msg(self.keeper.send_and_get_reply(new_method_call(service, "CreateSession"),
                                                         timeout=5))[0]
        session = DBusAddress(path, bus_name=BUS_NAME, interface=BUS_NAME + ".Session")
        unwrap_msg(self.keeper.send_and_get_reply(new_method_call(session, "Start"), timeout=5))
        for pressed in (True, False):
            unwrap_msg(self.keeper.send_and_get_reply(
                new_method_call(session, "NotifyKeyboardKeysym", "ub", (SHIFT_L, pressed)), timeout=5))

    def open_target(self, title: str) -> GtkWindow:
        """A GTK3 window, focused (Mutter focuses a new window), with an empty text file once it is up."""
        path = self.root / f"{title}.txt"
        proc = self._spawn(f"window-{title}", gtk_target_argv(title, path), {**self.child_env(), **GTK_ENV})
        try:
            _wait(lambda: path.exists() or proc.poll() is not None, START_TIMEOUT_S, f"window {title!r}")
        except GnomeError as exc:
            raise GnomeError(f"{exc}\n{self.log_tail()}") from exc
        if proc.poll() is not None:
            raise GnomeError(f"the GTK window exited with {proc.returncode}\n{self.log_tail()}")
        time.sleep(0.3)  # Mutter gives it the focus a moment after it mapped
        return GtkWindow(title, path, proc)

    def stop(self) -> None:
        if self.keeper is not None:
            self.keeper.close()
            self.keeper = None
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs.clear()


class RemoteDesktopClient:
    """A RemoteDesktop session of the test's own with the clipboard enabled: it can own the clipboard (as
    another application would, serving its text from a thread) and read what the clipboard holds."""

    TEXT = "text/plain;charset=utf-8"

    def __init__(self, gnome: HeadlessGnome) -> None:
        import threading

        self.conn = open_dbus_connection(gnome.bus_address, enable_fds=True)
        service = DBusAddress("/org/gnome/Mutter/RemoteDesktop", bus_name=BUS_NAME, interface=BUS_NAME)
        path = self._call(service, "CreateSession")[0]
        self.session = DBusAddress(path, bus_name=BUS_NAME, interface=BUS_NAME + ".Session")
        self._call(self.session, "Start")
        self._call(self.session, "EnableClipboard", "a{sv}", ({},))
        self.lock = threading.Lock()
        self.owned: bytes | None = None
        self.thread: threading.Thread | None = None
        self.stopping = False

    def _call(self, address: DBusAddress, method: str, signature: str | None = None,
              body: tuple[object, ...] = ()) -> tuple[object, ...]:
        call = new_method_call(address, method, signature, body)
        return tuple(unwrap_msg(self.conn.send_and_get_reply(call, timeout=5)))

    def own(self, text: str) -> None:
        """Put `text` on the clipboard and answer every request for it until close()."""
        import threading

        from jeepney import MatchRule, MessageType

        rule = MatchRule(type=MessageType.signal, interface=BUS_NAME + ".Session",
                         path=self.session.object_path, member="SelectionTransfer")
        unwrap_msg(self.conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=5))
        self.owned = text.encode("utf-8")
        queue = self.conn.filter(rule, bufsize=64).__enter__()
        self._call(self.session, "SetSelection", "a{sv}", ({"mime-types": ("as", [self.TEXT])},))

        def serve() -> None:
            while not self.stopping:
                try:
                    message = self.conn.recv_until_filtered(queue, timeout=0.1)
                except TimeoutError:
                    continue
                except OSError:
                    return
                serial = message.body[1]
                fd = self._call(self.session, "SelectionWrite", "u", (serial,))[0]
                with open(fd.to_raw_fd(), "wb") as out:  # type: ignore[attr-defined]
                    out.write(self.owned or b"")
                self._call(self.session, "SelectionWriteDone", "ub", (serial, True))

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stopping = True
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.conn.close()


def read_clipboard(gnome: HeadlessGnome, timeout: float = 3.0) -> str:
    """What a paste would get now (text/plain;charset=utf-8), read through a fresh RemoteDesktop session."""
    import select

    client = RemoteDesktopClient(gnome)
    try:
        fd = client._call(client.session, "SelectionRead", "s", (RemoteDesktopClient.TEXT,))[0]
        raw = fd.to_raw_fd()  # type: ignore[attr-defined]
        data = b""
        deadline = time.monotonic() + timeout
        try:
            while select.select([raw], [], [], max(0.0, deadline - time.monotonic()))[0]:
                try:
                    chunk = os.read(raw, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(raw)
        return data.decode("utf-8")
    finally:
        client.close()
