"""One session of the XDG RemoteDesktop portal, for the portal injection method (rd_portal.py).

CreateSession -> SelectDevices(types=keyboard; on interface version 2+ persist_mode=2 "until revoked" and the
restore token kept from the last run) -> Start. Start's Response may wait for the user's consent (a dialog),
so it gets its own, long timeout, and the wait ends early when the owner sets the `closing` event. Start
hands back a new restore token (the old one is spent), kept by portal_token.py, so consent is asked once.
A session the desktop closed (Session.Closed, the bus gone) is found before the next use and made again.

`portal_reason()` says whether the portal can be used at all, without making a session or showing a dialog.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from onevox.desktop import portal_requests as requests
from onevox.desktop import portals
from onevox.desktop.portal_requests import BUS_NAME, OBJECT_PATH, SESSION_INTERFACE
from onevox.errors import InjectionError
from onevox.inject.portal_token import RestoreTokenStore

if TYPE_CHECKING:
    from jeepney import DBusAddress, Message
    from jeepney.io.blocking import DBusConnection

log = logging.getLogger(__name__)

INTERFACE = "org.freedesktop.portal.RemoteDesktop"
KEYBOARD = 1  # SelectDevices types: 1 keyboard, 2 pointer, 4 touchscreen
PERSIST_UNTIL_REVOKED = 2
ROUTE = "the RemoteDesktop portal"
NO_PORTAL = ("xdg-desktop-portal is not on the session bus (install xdg-desktop-portal and your desktop's "
             "backend: xdg-desktop-portal-kde or xdg-desktop-portal-gnome)")
NOT_OFFERED = ("this desktop's portal offers no RemoteDesktop (it needs xdg-desktop-portal-kde or "
               "xdg-desktop-portal-gnome; wlroots' portal has none)")
NO_KEYBOARD = "this desktop's RemoteDesktop portal offers no keyboard"


def portal_reason(address: str, environ: Mapping[str, str], timeout: float) -> str | None:
    """Why the RemoteDesktop portal cannot type here (None: it can, as far as can be told without asking
    the user). The backends' .portal files say whether one made for this desktop offers it; a running portal
    is asked for its keyboard, one not running yet is not started (D-Bus activation is a side effect).
    OSError, ValueError, TimeoutError: the bus cannot be reached."""
    from jeepney import Properties
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection
    from jeepney.wrappers import DBusErrorResponse, unwrap_msg

    # xdg-desktop-portal 1.16 serves an interface from a backend made for another desktop when none for
    # this one has it (KDE's, installed on a GNOME machine), and that backend cannot type here
    if portals.backend_for_this_desktop(INTERFACE, environ) is False:
        return NOT_OFFERED
    with open_dbus_connection(address, auth_timeout=timeout) as conn:
        running = conn.send_and_get_reply(message_bus.NameHasOwner(BUS_NAME), timeout=timeout)
        if not running.body[0]:
            names = conn.send_and_get_reply(message_bus.ListActivatableNames(), timeout=timeout)
            if BUS_NAME not in names.body[0]:
                return NO_PORTAL
            return None  # D-Bus starts it on first use
        try:
            types: Any = unwrap_msg(conn.send_and_get_reply(Properties(portal_address()).get(
                "AvailableDeviceTypes"), timeout=timeout))[0]
        except DBusErrorResponse as exc:
            if exc.name in requests.MISSING_ERRORS:
                return NOT_OFFERED
            return f"the desktop portal answered {exc.name}: {requests.error_text(exc)}"
    return None if int(types[1]) & KEYBOARD else NO_KEYBOARD


def portal_address() -> DBusAddress:
    from jeepney import DBusAddress

    return DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=INTERFACE)


class PortalSession:
    """The connection and the started session; not thread-safe (the injector holds its lock around it)."""

    def __init__(self, tokens: RestoreTokenStore, consent_timeout: float, call_timeout: float,
                 closing: threading.Event) -> None:
        self.tokens = tokens
        self.consent_timeout = consent_timeout
        self.call_timeout = call_timeout
        self.closing = closing
        self.version = 0  # the portal's RemoteDesktop version, once a session was made
        self.refused: str | None = None  # the user cancelled or the desktop refused: not asked again
        self.conn: DBusConnection | None = None
        self.handle = ""
        self.started = 0  # sessions started so far (a new one after the desktop closed one)
        self._signals: deque[Message] = deque(maxlen=256)
        self._filters: list[Any] = []

    @property
    def is_open(self) -> bool:
        return self.conn is not None

    def open(self, address: str) -> tuple[DBusConnection, str]:
        """The started session (made now when there is none, or the desktop closed it); InjectionError."""
        if self.conn is not None:
            try:
                self._drain(self.conn)
            except (OSError, EOFError, ValueError) as exc:
                log.info("the D-Bus connection to the portal broke (%s); opening a new session", exc)
                self.close()
        if self.conn is not None and self.handle:
            return self.conn, self.handle
        from jeepney.io.blocking import open_dbus_connection
        from jeepney.wrappers import DBusErrorResponse

        try:
            conn = open_dbus_connection(address, auth_timeout=self.call_timeout)
        except (OSError, ValueError, TimeoutError) as exc:
            raise InjectionError(f"cannot connect to the D-Bus session bus at {address}: {exc}") from exc
        self.conn = conn
        try:
            self._watch(conn)
            self.handle = self._start(conn)
        except DBusErrorResponse as exc:
            self.close()
            if exc.name in requests.NO_SERVICE_ERRORS:
                raise InjectionError(NO_PORTAL) from exc
            if exc.name in requests.MISSING_ERRORS:
                raise InjectionError(NOT_OFFERED) from exc
            raise InjectionError(f"{ROUTE} answered {exc.name}: {requests.error_text(exc)}") from exc
        except (OSError, EOFError, TimeoutError) as exc:
            self.close()
            raise InjectionError(f"{ROUTE} did not answer: {exc}") from exc
        except BaseException:
            self.close()
            raise
        self.started += 1
        return conn, self.handle

    def _watch(self, conn: DBusConnection) -> None:
        """Subscribe to Request::Response and Session::Closed before any call that can cause them."""
        from jeepney import MatchRule, MessageType
        from jeepney.bus_messages import message_bus
        from jeepney.wrappers import unwrap_msg

        self._signals = deque(maxlen=256)
        for interface, member in ((requests.REQUEST_INTERFACE, "Response"), (SESSION_INTERFACE, "Closed")):
            rule = MatchRule(type=MessageType.signal, interface=interface, member=member)
            self._filters.append(conn.filter(rule, queue=self._signals))
            unwrap_msg(conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=self.call_timeout))

    def _start(self, conn: DBusConnection) -> str:
        """CreateSession, SelectDevices, Start (the user may be asked); the session handle."""
        from jeepney.wrappers import DBusErrorResponse

        try:
            self.version = requests.interface_version(conn, INTERFACE, self.call_timeout)
        except DBusErrorResponse as exc:
            if not exc.name.endswith("UnknownProperty"):
                raise
            self.version = 1  # a portal without the property: the first version
        created = self._request(conn, "CreateSession", "a{sv}", (),
                                {"session_handle_token": ("s", requests.new_token())}, self.call_timeout)
        handle = str(created.get("session_handle", ("s", ""))[1])
        if not handle:
            raise InjectionError(f"{ROUTE} created a session but named none")
        options: dict[str, tuple[str, Any]] = {"types": ("u", KEYBOARD)}
        kept = None
        if self.version >= 2:
            options["persist_mode"] = ("u", PERSIST_UNTIL_REVOKED)
            kept = self.tokens.load()
            if kept:
                options["restore_token"] = ("s", kept)
        self._request(conn, "SelectDevices", "oa{sv}", (handle,), options, self.call_timeout)
        log.info("RemoteDesktop portal v%d: starting session %s%s", self.version, handle,
                 " with the consent kept from before" if kept else " (the desktop may ask for consent)")
        started = self._request(conn, "Start", "osa{sv}", (handle, ""), {}, self.consent_timeout)
        if not int(started.get("devices", ("u", KEYBOARD))[1]) & KEYBOARD:
            raise InjectionError(f"{ROUTE} started without the keyboard (allow the keyboard in the "
                                 "desktop's dialog)")
        token = started.get("restore_token", ("s", ""))[1]
        if token:
            self.tokens.save(str(token))
        return handle

    def _request(self, conn: DBusConnection, method: str, signature: str, args: tuple[Any, ...],
                 options: dict[str, tuple[str, Any]], timeout: float) -> dict[str, Any]:
        """Call a RemoteDesktop method that answers through a Request, and wait for its Response."""
        from jeepney import new_method_call
        from jeepney.wrappers import unwrap_msg

        token = requests.new_token()
        expected = requests.request_path(conn, token)
        call = new_method_call(portal_address(), method, signature,
                               (*args, {**options, "handle_token": ("s", token)}))
        path = str(unwrap_msg(conn.send_and_get_reply(call, timeout=self.call_timeout))[0])
        try:
            code, results = requests.wait_response(conn, self._signals, (expected, path), timeout,
                                                   self.closing)
        except requests.Abandoned as exc:
            raise InjectionError(f"{method} abandoned: onevox is closing the RemoteDesktop portal") from exc
        except TimeoutError as exc:
            what = "allowed in the desktop's dialog" if method == "Start" else "answered"
            raise InjectionError(f"{ROUTE}'s {method} was not {what} within {timeout:.0f} s") from exc
        if code == requests.SUCCESS:
            return results
        if code == requests.CANCELLED:
            self.refused = (f"typing through {ROUTE} was not allowed ({method} cancelled in the desktop's "
                            "dialog); restart onevox to be asked again, or choose another [injection] method")
        else:
            self.refused = (f"the desktop refused typing through {ROUTE} ({method} answered {code}); allow "
                            "onevox remote control in the desktop's privacy settings, then restart onevox")
        raise InjectionError(self.refused)

    def _drain(self, conn: DBusConnection) -> None:
        """Take what the bus sent while idle; a Closed for our session ends it here."""
        for _ in range(1024):  # what is waiting, one message a call
            try:
                conn.recv_messages(timeout=0)
            except TimeoutError:
                break
        for message in list(self._signals):
            if (requests.field(message, "member") == "Closed"
                    and requests.field(message, "path") == self.handle):
                log.info("the desktop closed the RemoteDesktop portal session; opening a new one")
                self.close()
                return

    def close(self) -> None:
        """Close the session and the connection (the bus would end the session anyway)."""
        conn, handle = self.conn, self.handle
        self.conn, self.handle = None, ""
        for f in self._filters:
            f.close()
        self._filters.clear()
        if conn is None:
            return
        if handle:
            from jeepney import DBusAddress, MessageFlag, new_method_call

            close = new_method_call(DBusAddress(handle, bus_name=BUS_NAME, interface=SESSION_INTERFACE),
                                    "Close")
            close.header.flags |= MessageFlag.no_reply_expected
            try:
                conn.send(close)
            except OSError as exc:
                log.debug("closing the RemoteDesktop portal session: %s", exc)
        conn.close()
