"""The D-Bus side of the portal hotkey (portal.py): one GlobalShortcuts session on the XDG desktop portal.

It holds the session bus connection and does the plumbing the listener builds on: registering the app id
with the host registry, subscribing to the signals before any call that can cause them, CreateSession and
Close, method calls and the calls that answer through a Request object's Response, and the interface's
version (also asked on its own by `portal_version`, for `check_backends`). What to bind and what a signal
means stay in portal.py. jeepney is imported lazily; every failure is a HotkeyError saying why.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from onevox.desktop import portal_requests as requests
from onevox.desktop import portals
from onevox.desktop.portal_requests import (
    BUS_NAME,
    CANCELLED,
    MISSING_ERRORS,
    NO_SERVICE_ERRORS,
    OBJECT_PATH,
    REQUEST_INTERFACE,
    SESSION_INTERFACE,
    SUCCESS,
)
from onevox.errors import HotkeyError

if TYPE_CHECKING:
    from jeepney import DBusAddress, Message
    from jeepney.io.blocking import DBusConnection

log = logging.getLogger(__name__)

INTERFACE = "org.freedesktop.portal.GlobalShortcuts"
REGISTRY_INTERFACE = "org.freedesktop.host.portal.Registry"
APP_ID = "io.github.onevox.Onevox"  # the basename of the .desktop file portal.desktop_entry() writes
# the last element of the session's object path; the same on every start, because xdg-desktop-portal-kde
# names its kglobalaccel component after it (KDE then keeps the key a user assigns to it across restarts)
SESSION_TOKEN = "onevox"
CALL_TIMEOUT_S = 5.0  # a method call, or a Response that needs no user
NOT_OFFERED = ("this desktop's portal offers no GlobalShortcuts (it needs KDE Plasma 5.27+, GNOME 48+ or "
               "Hyprland's portal)")
NO_PORTAL = "no xdg-desktop-portal on the session bus (install xdg-desktop-portal and your desktop's backend)"


def session_bus_address(environ: Mapping[str, str] | None = None) -> str | None:
    """The session bus to talk to (the desktop layer's answer for this environment), None: none."""
    return portals.session_bus_address(os.environ if environ is None else environ) or None


def portal_version(address: str | None = None, timeout: float = CALL_TIMEOUT_S) -> int:
    """The GlobalShortcuts interface's version on the running portal (its `version` property: nothing is
    created, nothing shown); HotkeyError saying why there is none."""
    with connect(address, timeout) as conn:
        try:
            return _version(conn, timeout)
        except (OSError, ValueError) as exc:
            raise HotkeyError(f"the D-Bus session bus went away: {exc}") from exc


def connect(address: str | None, timeout: float) -> DBusConnection:
    """A connection to `address`, or to this session's bus; HotkeyError saying why there is none."""
    from jeepney.io.blocking import open_dbus_connection

    address = address or session_bus_address()
    if not address:
        raise HotkeyError("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset), so no portal")
    try:
        return open_dbus_connection(address, auth_timeout=timeout)
    except (OSError, ValueError, TimeoutError) as exc:
        raise HotkeyError(f"cannot reach the D-Bus session bus at {address}: {exc}") from exc


def _version(conn: DBusConnection, timeout: float) -> int:
    from jeepney.wrappers import DBusErrorResponse

    try:
        return requests.interface_version(conn, INTERFACE, timeout)
    except DBusErrorResponse as exc:
        if exc.name in MISSING_ERRORS:
            raise HotkeyError(NOT_OFFERED) from exc
        if exc.name in NO_SERVICE_ERRORS:
            raise HotkeyError(NO_PORTAL) from exc
        raise HotkeyError(f"the desktop portal answered {exc.name}: {requests.error_text(exc)}") from exc
    except TimeoutError as exc:
        raise HotkeyError("the desktop portal did not answer within "
                          f"{timeout:.0f} s (is xdg-desktop-portal starting?)") from exc


class GlobalShortcutsSession:
    """The connection and session a portal listener talks through (see the module docstring)."""

    def __init__(self, *, address: str | None, app_id: str, session_token: str, call_timeout: float) -> None:
        self.address = address
        self.app_id = app_id
        self.session_token = session_token
        self.call_timeout = call_timeout
        self.version = 0
        self.session_handle = ""
        self._conn: DBusConnection | None = None
        self._signals: deque[Message] | None = None
        self._filters: list[Any] = []
        self._stopping = threading.Event()  # set by stop(): a wait for a Response ends

    def _open(self) -> None:
        """Connect, register the app id, check the interface and create the session (HotkeyError on any
        failure, with the connection closed again)."""
        conn = connect(self.address, self.call_timeout)
        self._conn = conn
        try:
            self._register(conn)
            self.version = _version(conn, self.call_timeout)
            self._watch_signals(conn)
            self.session_handle = self._create_session(conn)
        except (OSError, EOFError) as exc:
            self._close()
            raise HotkeyError(f"the D-Bus session bus went away: {exc}") from exc
        except BaseException:
            self._close()
            raise

    def _register(self, conn: DBusConnection) -> None:
        """Tell a portal that has the host registry (1.19+) our app id; older ones have no such interface."""
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import DBusErrorResponse, unwrap_msg

        registry = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=REGISTRY_INTERFACE)
        try:
            call = new_method_call(registry, "Register", "sa{sv}", (self.app_id, {}))
            unwrap_msg(conn.send_and_get_reply(call, timeout=self.call_timeout))
        except DBusErrorResponse as exc:
            if exc.name in MISSING_ERRORS:
                log.debug("no host app registry on this portal (%s): shortcuts are kept under the app id the "
                          "portal finds itself", exc.name)
            elif exc.name in NO_SERVICE_ERRORS:
                raise HotkeyError(NO_PORTAL) from exc
            else:  # sandboxed, or registered already: the portal's own app id stands
                log.info("the portal did not take app id %s: %s %s", self.app_id, exc.name,
                         requests.error_text(exc))
        except TimeoutError as exc:
            raise HotkeyError(f"the desktop portal did not answer within {self.call_timeout:.0f} s") from exc
        else:
            log.debug("registered with the portal as %s", self.app_id)

    def _watch_signals(self, conn: DBusConnection) -> None:
        """Subscribe to Request::Response and the shortcut signals before any call that can cause them."""
        from jeepney import MatchRule, MessageType
        from jeepney.bus_messages import message_bus

        rules = [MatchRule(type=MessageType.signal, interface=REQUEST_INTERFACE, member="Response"),
                 # no path: the session handle in the body says whose it is
                 *(MatchRule(type=MessageType.signal, interface=INTERFACE, member=member)
                   for member in ("Activated", "Deactivated", "ShortcutsChanged")),
                 MatchRule(type=MessageType.signal, interface=SESSION_INTERFACE, member="Closed")]
        self._signals = deque(maxlen=256)
        for rule in rules:
            self._filters.append(conn.filter(rule, queue=self._signals))
            self._call(conn, message_bus.AddMatch(rule))

    def _create_session(self, conn: DBusConnection) -> str:
        from jeepney import new_method_call

        token = self._token()
        options = {"handle_token": ("s", token), "session_handle_token": ("s", self.session_token)}
        call = new_method_call(self._portal(), "CreateSession", "a{sv}", (options,))
        results = self._request(conn, call, token, self.call_timeout, "CreateSession")
        handle = results.get("session_handle", ("s", ""))[1]
        if not handle:
            raise HotkeyError("the GlobalShortcuts portal created a session but named none")
        return str(handle)

    def _close_session(self, conn: DBusConnection) -> None:
        from jeepney import DBusAddress, new_method_call

        session = DBusAddress(self.session_handle, bus_name=BUS_NAME, interface=SESSION_INTERFACE)
        self._call(conn, new_method_call(session, "Close"))


    def _request(self, conn: DBusConnection, call: Message, token: str, timeout: float | None,
                 what: str) -> dict[str, Any]:
        """Call a portal method that answers through a Request object and wait for its Response (timeout
        None: as long as it takes, while stop() is not called). The results, or HotkeyError."""
        expected = requests.request_path(conn, token)
        path = str(self._call(conn, call)[0])
        assert self._signals is not None
        try:
            code, results = requests.wait_response(conn, self._signals, (expected, path), timeout,
                                                   self._stopping)
        except requests.Abandoned as exc:
            raise HotkeyError(f"{what} abandoned: the listener stopped") from exc
        except TimeoutError as exc:
            raise HotkeyError(f"the GlobalShortcuts portal did not answer {what} within "
                              f"{timeout:.0f} s") from exc
        log.debug("portal %s answered %d %s", what, code, results)
        if code == SUCCESS:
            return results
        if code == CANCELLED:
            raise HotkeyError(f"the dictation shortcut was not set up: {what} was cancelled in the "
                              "desktop's dialog; restart onevox to be asked again, or bind a key to "
                              "`onevox toggle`")
        raise HotkeyError(f"the GlobalShortcuts portal refused {what} (response {code}); bind a key to "
                          "`onevox toggle` instead")

    def _next_signal(self, conn: DBusConnection, timeout: float) -> Message:
        """The next queued signal."""
        assert self._signals is not None
        return requests.next_signal(conn, self._signals, timeout)

    def _call(self, conn: DBusConnection, message: Message) -> tuple[Any, ...]:
        from jeepney.wrappers import DBusErrorResponse, unwrap_msg

        try:
            return tuple(unwrap_msg(conn.send_and_get_reply(message, timeout=self.call_timeout)))
        except DBusErrorResponse as exc:
            if exc.name in MISSING_ERRORS:
                raise HotkeyError(NOT_OFFERED) from exc
            raise HotkeyError(f"the GlobalShortcuts portal answered {exc.name}: "
                              f"{requests.error_text(exc)}") from exc
        except TimeoutError as exc:
            raise HotkeyError(f"the desktop portal did not answer within {self.call_timeout:.0f} s") from exc

    def _portal(self) -> DBusAddress:
        from jeepney import DBusAddress

        return DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=INTERFACE)

    @staticmethod
    def _token() -> str:
        return requests.new_token()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        for f in self._filters:
            f.close()
        self._filters.clear()
        if conn is None:
            return
        if self.session_handle:
            from jeepney import DBusAddress, MessageFlag, new_method_call

            close = new_method_call(DBusAddress(self.session_handle, bus_name=BUS_NAME,
                                                interface=SESSION_INTERFACE), "Close")
            close.header.flags |= MessageFlag.no_reply_expected
            try:
                conn.send(close)
            except OSError as exc:
                log.debug("closing the portal session: %s", exc)
            self.session_handle = ""
        conn.close()

