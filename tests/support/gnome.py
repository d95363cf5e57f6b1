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

import os
import shutil
import time
from pathlib import Path

from jeepney import DBusAddress, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.wrappers import unwrap_msg

from tests.support.gtk_window import missing_gtk
from tests.support.headless import HeadlessDesktop

REQUIRED_PROGRAMS = ("mutter", "dbus-daemon")
SHIFT_L = 0xFFE1
BUS_NAME = "org.gnome.Mutter.RemoteDesktop"


class GnomeError(RuntimeError):
    """The headless GNOME desktop could not be set up (a test environment problem, not a product failure)."""


def missing_programs() -> list[str]:
    """What the headless GNOME desktop needs that is not installed, GTK's Python bindings included."""
    return [p for p in REQUIRED_PROGRAMS if shutil.which(p) is None] + missing_gtk()


class HeadlessGnome(HeadlessDesktop):
    error = GnomeError
    prefix = "onevox-gnome-"
    desktop = "GNOME"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.keeper: DBusConnection | None = None
        self.keeper_session: DBusAddress | None = None

    def _start(self, **options: object) -> None:
        env = self._start_bus()
        mutter = self._spawn("mutter", ["mutter", "--wayland", "--headless", "--no-x11", "--virtual-monitor",
                                        "1280x720", f"--wayland-display={self.wayland_display}"], env)
        self._wait_started(mutter, self._service_ready, "Mutter's RemoteDesktop service")
        self._keep_keyboard()

    def _service_ready(self) -> bool:
        return self.has_name(BUS_NAME)

    def _keep_keyboard(self) -> None:
        """A RemoteDesktop session held for the desktop's life (its virtual keyboard stays in the seat), and
        one Shift tap through it (GTK loses the first key a seat ever sends)."""
        self.keeper = open_dbus_connection(self.bus_address)
        service = DBusAddress("/org/gnome/Mutter/RemoteDesktop", bus_name=BUS_NAME, interface=BUS_NAME)
        path = unwrap_msg(self.keeper.send_and_get_reply(new_method_call(service, "CreateSession"),
                                                         timeout=5))[0]
        session = DBusAddress(path, bus_name=BUS_NAME, interface=BUS_NAME + ".Session")
        unwrap_msg(self.keeper.send_and_get_reply(new_method_call(session, "Start"), timeout=5))
        self.keeper_session = session
        self.press_chord([SHIFT_L], hold_s=0)

    def press_chord(self, keysyms: list[int], hold_s: float = 0.05) -> float:
        """Press `keysyms` in order on the seat's keyboard, hold them `hold_s`, release them in reverse
        order, as fingers do. Returns the monotonic time of the release."""
        if self.keeper is None or self.keeper_session is None:
            raise self.error("the desktop's RemoteDesktop session is not open")
        for keysym, pressed in [*((k, True) for k in keysyms), *((k, False) for k in reversed(keysyms))]:
            unwrap_msg(self.keeper.send_and_get_reply(
                new_method_call(self.keeper_session, "NotifyKeyboardKeysym", "ub", (keysym, pressed)),
                timeout=5))
            if pressed and keysym == keysyms[-1] and hold_s:
                time.sleep(hold_s)
        return time.monotonic()

    def stop(self) -> None:
        if self.keeper is not None:
            self.keeper.close()
            self.keeper = None
            self.keeper_session = None
        super().stop()


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
