"""A test double of xdg-desktop-portal's GlobalShortcuts, on a private D-Bus bus of its own.

    with PrivateBus.start(tmp_path) as bus, FakePortal(bus.address) as portal:
        listener = PortalHotkeyListener(..., address=bus.address)
        listener.start(); listener.ready.wait(5)
        portal.press("dictate"); portal.release("dictate")

The bus is a `dbus-daemon` with a config of its own that names no service folders, so nothing is D-Bus
activated (a real xdg-desktop-portal is never started behind the double's back). The double owns
org.freedesktop.portal.Desktop, answers on its own thread, and sends each Request's Response signal *before*
the method's reply, as a quick portal can: a client that subscribes only after the call loses it.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, HeaderFields, Message, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

BUS_NAME = "org.freedesktop.portal.Desktop"
OBJECT_PATH = "/org/freedesktop/portal/desktop"
INTERFACE = "org.freedesktop.portal.GlobalShortcuts"
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class PrivateBus:
    """A dbus-daemon on a socket in `root`, without service activation; stopped by its PID."""

    def __init__(self, root: Path) -> None:
        self.socket = root / "bus"
        self.address = f"unix:path={self.socket}"
        self.config = root / "bus.conf"
        self.proc: subprocess.Popen[bytes] | None = None

    @classmethod
    @contextlib.contextmanager
    def start(cls, root: Path) -> Iterator[PrivateBus]:
        bus = cls(root)
        bus.config.write_text(BUS_CONFIG.format(socket=bus.socket))
        bus.proc = subprocess.Popen(["dbus-daemon", f"--config-file={bus.config}", "--nofork", "--nopidfile"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while not bus.answers():  # the socket file appears a moment before the daemon listens on it
                if bus.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"dbus-daemon did not start (exit {bus.proc.poll()})")
                time.sleep(0.01)
            yield bus
        finally:
            bus.stop()

    def answers(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            open_dbus_connection(self.address).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=5)


@dataclass
class Calls:
    methods: list[str] = field(default_factory=list)
    registered: list[str] = field(default_factory=list)
    bound: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)


class FakePortal:
    """org.freedesktop.portal.Desktop with GlobalShortcuts (version `version`; None: the interface is not
    exported, as on a desktop without a backend for it). `bind` is what BindShortcuts answers: "ok",
    "cancel" (the user closed the dialog: response 1), "error" (response 2) or "empty" (success without
    the shortcut, as KDE 5.27 answers). `registry`: whether
    org.freedesktop.host.portal.Registry exists (portal 1.19+). `known`: a shortcut the portal already keeps
    for the app (ListShortcuts lists it)."""

    def __init__(self, address: str, *, version: int | None = 1, bind: str = "ok", registry: bool = False,
                 known: str | None = None, trigger_description: str = "Ctrl+Alt+D") -> None:
        self.address = address
        self.version = version
        self.bind = bind
        self.registry = registry
        self.known = known
        self.trigger_description = trigger_description
        self.calls = Calls()
        self.sessions: list[str] = []
        self._conn: DBusConnection | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._send_lock = threading.Lock()

    def __enter__(self) -> FakePortal:
        self._conn = open_dbus_connection(self.address)
        reply = self._conn.send_and_get_reply(message_bus.RequestName(BUS_NAME), timeout=5)
        assert reply.body[0] == 1, f"could not own {BUS_NAME}: {reply.body}"
        self._thread = threading.Thread(target=self._serve, name="fake-portal", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Leave the bus (as a portal that crashed or was stopped)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- what a test does -----------------------------------------------------------------------------

    def press(self, shortcut_id: str = "dictate", session: str | None = None) -> None:
        self._emit_shortcut("Activated", shortcut_id, session)

    def release(self, shortcut_id: str = "dictate", session: str | None = None) -> None:
        self._emit_shortcut("Deactivated", shortcut_id, session)

    def close_session(self) -> None:
        path = self.sessions[-1]
        session = DBusAddress(path, interface="org.freedesktop.portal.Session")
        self._send(new_signal(session, "Closed", "a{sv}", ({},)))

    def _emit_shortcut(self, member: str, shortcut_id: str, session: str | None) -> None:
        path = session or self.sessions[-1]
        self._send(new_signal(DBusAddress(OBJECT_PATH, interface=INTERFACE), member, "osta{sv}",
                              (path, shortcut_id, int(time.time() * 1000), {})))

    # -- the service ----------------------------------------------------------------------------------

    def _send(self, message: Message) -> None:
        assert self._conn is not None
        with self._send_lock:
            self._conn.send(message)

    def _serve(self) -> None:
        assert self._conn is not None
        while not self._stop.is_set():
            try:
                message = self._conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            except OSError:
                return
            if message.header.message_type == MessageType.method_call:
                self._answer(message)

    def _answer(self, call: Message) -> None:
        fields = call.header.fields
        interface, member = fields.get(HeaderFields.interface), fields.get(HeaderFields.member)
        sender = str(fields.get(HeaderFields.sender, "")).lstrip(":").replace(".", "_")
        self.calls.methods.append(f"{interface}.{member}")
        if interface == "org.freedesktop.DBus.Properties" and member == "Get":
            if self.version is None or call.body[0] != INTERFACE:
                self._send(new_error(call, "org.freedesktop.DBus.Error.InvalidArgs", "s",
                                     (f"No such interface “{call.body[0]}”",)))
            else:
                self._send(new_method_return(call, "v", (("u", self.version),)))
        elif interface == "org.freedesktop.host.portal.Registry" and member == "Register" and self.registry:
            self.calls.registered.append(call.body[0])
            self._send(new_method_return(call))
        elif interface == INTERFACE and self.version is not None and member in (
                "CreateSession", "ListShortcuts", "BindShortcuts"):
            options = call.body[-1]
            request = f"{OBJECT_PATH}/request/{sender}/{options['handle_token'][1]}"
            code, results = self._results(member, call.body, sender)
            # the Response goes out before the reply: the race a client must be ready for
            requested = DBusAddress(request, interface="org.freedesktop.portal.Request")
            self._send(new_signal(requested, "Response", "ua{sv}", (code, results)))
            self._send(new_method_return(call, "o", (request,)))
        elif interface == "org.freedesktop.portal.Session" and member == "Close":
            self.calls.closed.append(str(fields.get(HeaderFields.path)))
            self._send(new_method_return(call))
        else:
            self._send(new_error(call, "org.freedesktop.DBus.Error.UnknownMethod", "s",
                                 (f"No such method {interface}.{member}",)))

    def _results(self, member: str, body: tuple[Any, ...], sender: str) -> tuple[int, dict[str, Any]]:
        if member == "CreateSession":
            path = f"{OBJECT_PATH}/session/{sender}/{body[0]['session_handle_token'][1]}"
            self.sessions.append(path)
            return 0, {"session_handle": ("s", path)}
        if member == "ListShortcuts":
            known = [] if self.known is None else [self._shortcut(self.known)]
            return 0, {"shortcuts": ("a(sa{sv})", known)}
        self.calls.bound.extend((sid, {k: v[1] for k, v in info.items()}) for sid, info in body[1])
        if self.bind == "cancel":
            return 1, {}
        if self.bind == "error":
            return 2, {}
        if self.bind == "empty":  # xdg-desktop-portal-kde 5.27: success, nothing bound
            return 0, {"shortcuts": ("a(sa{sv})", [])}
        return 0, {"shortcuts": ("a(sa{sv})", [self._shortcut(sid) for sid, _info in body[1]])}

    def _shortcut(self, shortcut_id: str) -> tuple[str, dict[str, Any]]:
        return (shortcut_id, {"description": ("s", "Dictate (onevox)"),
                              "trigger_description": ("s", self.trigger_description)})
