"""A test double of xdg-desktop-portal's RemoteDesktop interface, on the private bus of fake_portal.py.

    with PrivateBus.start(tmp_path) as bus, FakeRemoteDesktop(bus.address) as portal:
        PortalInjector(cfg, {"DBUS_SESSION_BUS_ADDRESS": bus.address}, tokens=...).inject("hi")
        assert portal.typed() == "hi" and portal.consents == 1

It behaves as the spec says a portal does: Start asks the user (counted in `consents`) unless SelectDevices
passed the restore token it handed out last, which is then spent; with persist_mode it hands out a new one.
Like fake_portal.FakePortal, each Request's Response goes out before the method's reply. A session closed
(by the client, or by the desktop through close_session()) refuses further keys.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from jeepney import DBusAddress, HeaderFields, Message, new_error, new_method_return, new_signal

from tests.support.fake_portal import OBJECT_PATH, FakePortal

INTERFACE = "org.freedesktop.portal.RemoteDesktop"
SESSION_INTERFACE = "org.freedesktop.portal.Session"
RETURN, TAB = 0xFF0D, 0xFF09


@dataclass
class RemoteDesktopCalls:
    created: list[str] = field(default_factory=list)  # session handles
    selected: list[dict[str, Any]] = field(default_factory=list)  # SelectDevices options, unwrapped
    started: list[str] = field(default_factory=list)
    keys: list[tuple[int, int]] = field(default_factory=list)  # (keysym, state) in the order received
    closed: list[str] = field(default_factory=list)


class FakeRemoteDesktop(FakePortal):
    """org.freedesktop.portal.RemoteDesktop, interface `rd_version` (None: not exported). `start` is what a
    Start that asks the user answers: "ok", "cancel" (response 1) or "refuse" (2); `start_delay` the time
    the user takes. `device_types`: AvailableDeviceTypes."""

    def __init__(self, address: str, *, rd_version: int | None = 2, start: str = "ok",
                 start_delay: float = 0.0, device_types: int = 7) -> None:
        super().__init__(address, version=None)
        self.rd_version = rd_version
        self.start = start
        self.start_delay = start_delay
        self.device_types = device_types
        self.rd = RemoteDesktopCalls()
        self.consents = 0  # Starts that asked the user
        self.issued: str | None = None  # the restore token handed out last (None: none, or spent)
        self._tokens = 0
        self._active: set[str] = set()
        self._pending_restore: dict[str, str | None] = {}
        self._replied = False

    # -- what a test does -----------------------------------------------------------------------------

    def typed(self) -> str:
        """The text the pressed keysyms spell (ASCII, Return, Tab)."""
        chars = {RETURN: "\n", TAB: "\t"}
        return "".join(chars.get(k, chr(k) if k < 0x100 else f"<{k:#x}>") for k, state in self.rd.keys
                       if state == 1)

    def close_session(self) -> None:
        """The desktop ends the session (Session::Closed), as when the user revokes it."""
        path = self.rd.created[-1]
        self._active.discard(path)
        self._send(new_signal(DBusAddress(path, interface=SESSION_INTERFACE), "Closed", "a{sv}", ({},)))

    def forget_session(self) -> None:
        """The session dies without a signal (the portal restarted): the next key is refused."""
        self._active.discard(self.rd.created[-1])

    # -- the service ----------------------------------------------------------------------------------

    def _answer(self, call: Message) -> None:
        fields = call.header.fields
        interface, member = fields.get(HeaderFields.interface), fields.get(HeaderFields.member)
        if interface == "org.freedesktop.DBus.Properties" and member == "Get" and call.body[0] == INTERFACE:
            self.calls.methods.append(f"{interface}.{member}")
            if self.rd_version is None:
                self._send(new_error(call, "org.freedesktop.DBus.Error.InvalidArgs", "s",
                                     (f"No such interface “{INTERFACE}”",)))
            else:
                value = self.rd_version if call.body[1] == "version" else self.device_types
                self._send(new_method_return(call, "v", (("u", value),)))
        elif interface == INTERFACE and self.rd_version is not None:
            self.calls.methods.append(f"{interface}.{member}")
            if member == "NotifyKeyboardKeysym":
                self._key(call)
            elif member in ("CreateSession", "SelectDevices", "Start"):
                threading.Thread(target=self._request, args=(call, member), daemon=True).start()
            else:
                self._send(new_error(call, "org.freedesktop.DBus.Error.UnknownMethod", "s", (member,)))
        elif interface == SESSION_INTERFACE and member == "Close":
            path = str(fields.get(HeaderFields.path))
            self.rd.closed.append(path)
            self._active.discard(path)
            if not call.header.flags & 1:  # NO_REPLY_EXPECTED
                self._send(new_method_return(call))
        else:
            super()._answer(call)

    def _key(self, call: Message) -> None:
        session, _options, keysym, state = call.body
        if session not in self._active:
            if not call.header.flags & 1:
                self._send(new_error(call, "org.freedesktop.DBus.Error.AccessDenied", "s",
                                     ("Invalid session",)))
            return
        self.rd.keys.append((int(keysym), int(state)))
        if not call.header.flags & 1:
            self._send(new_method_return(call))

    def _request(self, call: Message, member: str) -> None:
        sender = str(call.header.fields.get(HeaderFields.sender, "")).lstrip(":").replace(".", "_")
        options = call.body[-1]
        request = f"{OBJECT_PATH}/request/{sender}/{options['handle_token'][1]}"
        code, results = 0, {}
        if member == "CreateSession":
            path = f"{OBJECT_PATH}/session/{sender}/{options['session_handle_token'][1]}"
            self.rd.created.append(path)
            results = {"session_handle": ("s", path)}
        elif member == "SelectDevices":
            unwrapped = {k: v[1] for k, v in options.items() if k != "handle_token"}
            self.rd.selected.append(unwrapped)
            self._pending_restore[call.body[0]] = unwrapped.get("restore_token")
        else:
            code, results = self._start(call.body[0], call, request)
        if self._stop.is_set():  # the test ended while the "user" still had the dialog
            return
        requested = DBusAddress(request, interface="org.freedesktop.portal.Request")
        with contextlib.suppress(AssertionError, OSError):  # closed meanwhile: nobody to answer
            self._send(new_signal(requested, "Response", "ua{sv}", (code, results)))
            if not (member == "Start" and self._replied):
                self._send(new_method_return(call, "o", (request,)))

    def _start(self, session: str, call: Message, request: str) -> tuple[int, dict[str, Any]]:
        self.rd.started.append(session)
        self._replied = False
        restore = self._pending_restore.get(session)
        persist = bool(self.rd.selected and self.rd.selected[-1].get("persist_mode"))
        if restore is None or restore != self.issued:  # no valid token: the dialog
            self.consents += 1
            if self.start_delay:  # the method answers at once; the Response waits for the user
                self._send(new_method_return(call, "o", (request,)))
                self._replied = True
                time.sleep(self.start_delay)
            if self.start == "cancel":
                return 1, {}
            if self.start == "refuse":
                return 2, {}
        self.issued = None  # spent
        results: dict[str, Any] = {"devices": ("u", 1)}
        if persist and self.rd_version is not None and self.rd_version >= 2:
            self._tokens += 1
            self.issued = f"restore-{self._tokens}"
            results["restore_token"] = ("s", self.issued)
        self._active.add(session)
        return 0, results
