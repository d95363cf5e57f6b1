"""The parts of an xdg-desktop-portal conversation every portal client here shares (the GlobalShortcuts
hotkey, the RemoteDesktop injector), over jeepney (imported lazily, by the callers' connections).

A portal method that may need the user answers at once with a Request object path and later with a
`Response(code, results)` signal on it. That path is known in advance (our unique name and a token we
choose), and a quick portal sends the Response before the method's reply: so the Response signal is
subscribed to (into a queue) before the call, and matched against both the expected and the returned path.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jeepney import Message
    from jeepney.io.blocking import DBusConnection

BUS_NAME = "org.freedesktop.portal.Desktop"
OBJECT_PATH = "/org/freedesktop/portal/desktop"
REQUEST_INTERFACE = "org.freedesktop.portal.Request"
SESSION_INTERFACE = "org.freedesktop.portal.Session"
POLL_S = 0.25  # how often a long wait looks at its stop event
# Request::Response codes
SUCCESS, CANCELLED, ENDED = 0, 1, 2
NO_SERVICE_ERRORS = ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner")
MISSING_ERRORS = ("org.freedesktop.DBus.Error.UnknownInterface", "org.freedesktop.DBus.Error.UnknownMethod",
                  "org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.InvalidArgs",
                  "org.freedesktop.DBus.Error.UnknownProperty")


class Abandoned(Exception):
    """The wait for a Response was given up because the caller's stop event was set."""


def field(message: Message, name: str) -> Any:
    """A header field of `message` (member, path, ...), or None."""
    from jeepney.low_level import HeaderFields

    return message.header.fields.get(HeaderFields[name])


def error_text(exc: Any) -> str:
    """The human part of a D-Bus error reply ('' when it has none)."""
    data = getattr(exc, "data", ())
    return str(data[0]) if data else ""


def new_token() -> str:
    """A fresh handle_token (a valid object-path element)."""
    return "onevox_" + secrets.token_hex(6)


def request_path(conn: DBusConnection, token: str) -> str:
    """The Request object the portal will make for a call from `conn` with handle_token `token`."""
    sender = str(getattr(conn, "unique_name", "")).lstrip(":").replace(".", "_")
    return f"{OBJECT_PATH}/request/{sender}/{token}"


def interface_version(conn: DBusConnection, interface: str, timeout: float) -> int:
    """The `version` property of portal `interface` (nothing is created, nothing shown). Raises jeepney's
    DBusErrorResponse (see MISSING_ERRORS, NO_SERVICE_ERRORS) or TimeoutError."""
    from jeepney import DBusAddress, Properties
    from jeepney.wrappers import unwrap_msg

    portal = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=interface)
    variant: Any = unwrap_msg(conn.send_and_get_reply(Properties(portal).get("version"), timeout=timeout))[0]
    return int(variant[1])


def next_signal(conn: DBusConnection, queue: deque[Message], timeout: float,
                member: str | None = None) -> Message:
    """The next signal in `queue` (filled by the connection's filters), the next `member` when given (the
    others stay queued, in order); TimeoutError when none comes within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        for i, message in enumerate(queue):
            if member is None or field(message, "member") == member:
                del queue[i]
                return message
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        conn.recv_messages(timeout=left)


def wait_response(conn: DBusConnection, queue: deque[Message], paths: tuple[str, ...], timeout: float | None,
                  stopping: threading.Event | None = None) -> tuple[int, dict[str, Any]]:
    """The (code, results) of the Response signal on one of `paths`. TimeoutError after `timeout` seconds
    (None: as long as it takes), Abandoned as soon as `stopping` is set."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if stopping is not None and stopping.is_set():
            raise Abandoned
        wait = POLL_S if deadline is None else min(POLL_S, deadline - time.monotonic())
        if wait <= 0:
            raise TimeoutError
        try:
            message = next_signal(conn, queue, wait, member="Response")
        except TimeoutError:
            continue
        if field(message, "path") in paths:
            return int(message.body[0]), dict(message.body[1])
