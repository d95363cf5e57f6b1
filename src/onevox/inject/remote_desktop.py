"""Typing through GNOME Mutter's own RemoteDesktop D-Bus service (GNOME on Wayland, where wtype has no
virtual-keyboard protocol to use and ydotool needs /dev/uinput).

One D-Bus connection and one RemoteDesktop session serve the injector's whole life: Mutter ends a session
when the connection that created it goes away. Both are opened on the first inject(), opened again when they
have died, and closed by close().

Mutter 43 types a keysym only when the current keyboard layout has a key for it: for any other keysym it logs
"No keycode found for keyval" and drops the key, and the D-Bus call still succeeds. So this method types
printable ASCII, newline (Return) and tab (Tab) only, which every Latin layout has. Any other text goes
whole through the session's own clipboard (EnableClipboard, SetSelection, answering SelectionTransfer) and
ctrl+v; when the focused window does not ask for it (a terminal wants ctrl+shift+v) the method fails loudly.
That leaves the pasted text on the clipboard (GNOME's clipboard manager keeps a copy).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING

from onevox.config import InjectionConfig
from onevox.desktop import portals
from onevox.errors import InjectionError
from onevox.inject.base import InjectionMethod

if TYPE_CHECKING:
    from jeepney import DBusAddress, Message
    from jeepney.io.blocking import DBusConnection

log = logging.getLogger(__name__)

BUS_NAME = "org.gnome.Mutter.RemoteDesktop"
OBJECT_PATH = "/org/gnome/Mutter/RemoteDesktop"
SESSION_INTERFACE = BUS_NAME + ".Session"
CALL_TIMEOUT_S = 2.0
PASTE_TIMEOUT_S = 1.5  # how long the focused window may take to ask for the pasted text
PASTE_QUIET_S = 0.05  # further requests for it (other MIME types) come within this
TEXT_MIME_TYPES = ["text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "STRING", "TEXT"]
CONTROL_L = 0xFFE3
KEY_V = 0x76
OWNER_WAIT_S = 0.02  # Mutter announces the owner (if any) before it answers EnableClipboard
RESTORE_WAIT_S = 1.0  # reading the old clipboard, and handing it back to GNOME's clipboard manager
MAX_CLIPBOARD_BYTES = 16 << 20
KEY_BATCH = 16  # keysyms sent before waiting for Mutter to catch up

RETURN = 0xFF0D
TAB = 0xFF09
UNICODE_KEYSYM_BASE = 0x01000000  # keysyms for characters outside Latin-1 (X11 keysymdef.h)


def keysym_for(char: str) -> int:
    """The X keysym that types `char`: Latin-1 characters are their own keysym, newline is Return, tab is
    Tab, any other character is 0x01000000 + its code point. ValueError for other control characters."""
    if len(char) != 1:
        raise ValueError(f"one character expected, got {char!r}")
    code = ord(char)
    if char == "\n":
        return RETURN
    if char == "\t":
        return TAB
    if code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000:
        raise ValueError(f"U+{code:04X} is a control character or a lone surrogate; it has no key")
    if code <= 0xFF:
        return code
    return UNICODE_KEYSYM_BASE + code


def layout_keysyms(text: str, route: str) -> list[int]:
    """The keysyms that type `text` through a route that types only keys on the current keyboard layout
    (Mutter 43, the RemoteDesktop portal), or InjectionError naming every character it would drop: anything
    but printable ASCII, newline and tab, which every Latin layout has."""
    text = text.replace("\r\n", "\n")
    odd = sorted({c for c in text if not (c in "\n\t" or " " <= c <= "~")})
    if odd:
        names = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in odd)
        raise InjectionError(
            f"{route} types only keys on the keyboard layout (printable ASCII, newline, tab) "
            f"and drops the rest silently; refusing the whole text rather than losing {names}")
    return [keysym_for(c) for c in text]


def mutter_keysyms(text: str) -> list[int]:
    """The keysyms that type `text` through Mutter 43 (layout_keysyms)."""
    return layout_keysyms(text, "GNOME's RemoteDesktop")


def _read_all(fd: int, timeout: float) -> bytes | None:
    """Everything from a pipe Mutter fills (non-blocking), or None when it takes longer than `timeout` or
    holds more than MAX_CLIPBOARD_BYTES."""
    import select

    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                log.warning("the clipboard's owner did not hand over its text; it is not restored")
                return None
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_CLIPBOARD_BYTES:
                log.warning("the clipboard holds over %d bytes; it is not restored", MAX_CLIPBOARD_BYTES)
                return None
            chunks.append(chunk)
    finally:
        os.close(fd)


def session_bus_address(environ: Mapping[str, str] | None = None) -> str | None:
    """The session bus to talk to (the desktop layer's answer for this environment), None: none."""
    return portals.session_bus_address(os.environ if environ is None else environ) or None


class RemoteDesktopInjector(InjectionMethod):
    """Key presses through `org.gnome.Mutter.RemoteDesktop` (CreateSession, Session.Start,
    Session.NotifyKeyboardKeysym): no helper program, no clipboard, and nothing left behind."""

    name = "remote-desktop"

    def __init__(self, cfg: InjectionConfig, environ: Mapping[str, str] | None = None) -> None:
        self.cfg = cfg
        self.environ = environ
        self._lock = threading.Lock()
        self._conn: DBusConnection | None = None
        self._session: DBusAddress | None = None

    def unavailable_reason(self) -> str | None:
        address = session_bus_address(self.environ)
        if address is None:
            return ("no D-Bus session bus to reach (DBUS_SESSION_BUS_ADDRESS is unset or names a socket that "
                    "is gone, and there is no $XDG_RUNTIME_DIR/bus)")
        if self._conn is not None:
            return None
        try:
            import jeepney  # noqa: F401
        except ImportError:
            return "the jeepney package is not installed"
        try:
            if not self._service_present(address):
                return f"{BUS_NAME} is not on the session bus (it is GNOME Mutter's: not a GNOME session)"
        except (OSError, ValueError, TimeoutError) as exc:
            return f"cannot reach the D-Bus session bus at {address}: {exc}"
        return None

    @staticmethod
    def _service_present(address: str) -> bool:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection(address, auth_timeout=CALL_TIMEOUT_S) as conn:
            reply = conn.send_and_get_reply(message_bus.NameHasOwner(BUS_NAME), timeout=CALL_TIMEOUT_S)
        return bool(reply.body[0])

    def _deliver(self, text: str) -> None:
        try:
            keysyms = mutter_keysyms(text)
        except InjectionError as refused:
            with self._lock:
                try:
                    self._paste(text)
                except InjectionError as exc:
                    self._close_locked()
                    raise InjectionError(f"{exc} ({refused})") from exc
            return
        self._press_keys(keysyms)

    def press_keysyms(self, keysyms: list[int]) -> None:
        """Press and release each keysym in turn (keys that type no character, such as BackSpace)."""
        reason = self.unavailable_reason()
        if reason:
            raise InjectionError(f"{self.name}: {reason}")
        self._press_keys(keysyms)

    def _press_keys(self, keysyms: list[int]) -> None:
        """`_press` under the lock; a failure closes the session (the next call opens a fresh one)."""
        with self._lock:
            try:
                self._press(keysyms, fresh_session_allowed=True)
            except InjectionError:
                self._close_locked()
                raise

    def _paste(self, text: str) -> None:
        """`text` onto the session's clipboard, ctrl+v, and the data handed to whoever asks for it until the
        focused window has (InjectionError when it never does); then the text the clipboard held before is
        put back (injection.restore_clipboard)."""
        from jeepney import MatchRule, MessageType
        from jeepney.bus_messages import message_bus
        from jeepney.wrappers import DBusErrorResponse

        data = text.encode("utf-8")
        conn, session = self._open()
        rules = [MatchRule(type=MessageType.signal, interface=SESSION_INTERFACE, path=session.object_path,
                           member=member) for member in ("SelectionTransfer", "SelectionOwnerChanged")]
        try:
            with conn.filter(rules[0], bufsize=64) as transfers, conn.filter(rules[1], bufsize=8) as owners:
                for rule in rules:
                    self._send(conn, message_bus.AddMatch(rule))
                self._call(conn, session, "EnableClipboard", "a{sv}", ({},))
                try:
                    restore = self.cfg.restore_clipboard
                    saved = self._saved_clipboard(conn, session, owners) if restore else None
                    self._call(conn, session, "SetSelection", "a{sv}",
                               ({"mime-types": ("as", TEXT_MIME_TYPES)},))
                    # requests before the keys are GNOME's clipboard manager taking its copy
                    served_before = self._serve(conn, session, transfers, data, wait_s=0.0)
                    for keysym, pressed in ((CONTROL_L, True), (KEY_V, True), (KEY_V, False),
                                            (CONTROL_L, False)):
                        self._call(conn, session, "NotifyKeyboardKeysym", "ub", (keysym, pressed))
                    served = self._serve(conn, session, transfers, data, wait_s=PASTE_TIMEOUT_S)
                    if saved is not None:
                        # ours again with the old text; the clipboard manager copies it before we let go
                        self._call(conn, session, "SetSelection", "a{sv}",
                                   ({"mime-types": ("as", TEXT_MIME_TYPES)},))
                        self._serve(conn, session, transfers, saved, wait_s=RESTORE_WAIT_S)
                finally:
                    self._call(conn, session, "DisableClipboard")
                    for rule in rules:
                        self._send(conn, message_bus.RemoveMatch(rule))
        except (OSError, TimeoutError, DBusErrorResponse) as exc:
            raise InjectionError(f"pasting through GNOME RemoteDesktop failed: {exc}") from exc
        log.debug("remote-desktop paste: %d request(s) before ctrl+v, %d after; clipboard %s", served_before,
                  served, "restored" if saved is not None else "not restored")
        if not served:
            raise InjectionError("the focused window did not ask for the text after ctrl+v (a terminal "
                                 "pastes with ctrl+shift+v); nothing was typed")

    def _saved_clipboard(self, conn: DBusConnection, session: DBusAddress,
                         owners: deque[Message]) -> bytes | None:
        """The clipboard's text before we take it (Mutter announces the owner's MIME types when the clipboard
        is enabled); None when it is empty, ours, or not text (then the dictated text stays on it)."""
        from jeepney.fds import FileDescriptor

        try:
            message = owners.popleft() if owners else conn.recv_until_filtered(owners, timeout=OWNER_WAIT_S)
        except TimeoutError:
            return None
        options = message.body[0]
        if options.get("session-is-owner", ("b", False))[1]:
            return None
        value = options.get("mime-types", ("as", []))
        mimes = list(value[1][0] if value[0] == "(as)" else value[1])
        mime = next((m for m in TEXT_MIME_TYPES if m in mimes), None)
        if mime is None:
            if mimes:
                log.warning("the clipboard holds no text (%s); it will hold the dictated text instead",
                            ", ".join(mimes[:5]))
            return None
        fd = self._call(conn, session, "SelectionRead", "s", (mime,))[0]
        assert isinstance(fd, FileDescriptor)
        return _read_all(fd.to_raw_fd(), RESTORE_WAIT_S)

    def _serve(self, conn: DBusConnection, session: DBusAddress, transfers: deque[Message], data: bytes,
               wait_s: float) -> int:
        """Answer SelectionTransfer requests: those already queued, then (wait_s > 0) wait up to wait_s for
        the first, and keep answering until none has come for PASTE_QUIET_S. Returns how many."""
        from jeepney.fds import FileDescriptor

        served = 0
        deadline = time.monotonic() + wait_s
        while True:
            if not transfers:
                if wait_s <= 0:
                    return served
                timeout = deadline - time.monotonic() if not served else PASTE_QUIET_S
                if timeout <= 0:
                    return served
                try:
                    message = conn.recv_until_filtered(transfers, timeout=timeout)
                except TimeoutError:
                    return served
            else:
                message = transfers.popleft()
            serial = int(message.body[1])
            fd = self._call(conn, session, "SelectionWrite", "u", (serial,))[0]
            ok = True
            try:
                assert isinstance(fd, FileDescriptor)
                with open(fd.to_raw_fd(), "wb") as out:
                    out.write(data)
            except (OSError, AssertionError) as exc:
                log.warning("writing the pasted text failed: %s", exc)
                ok = False
            self._call(conn, session, "SelectionWriteDone", "ub", (serial, ok))
            served += 1

    def _press(self, keysyms: list[int], fresh_session_allowed: bool) -> None:
        """Press and release each keysym. The first goes alone and waits for its answer, so a session that
        died while idle is found before anything is typed; the rest go in batches whose calls expect no
        answer but the last (Mutter handles a connection's calls in order)."""
        from jeepney.wrappers import DBusErrorResponse

        conn, session = self._open()
        try:
            self._keys(conn, session, keysyms[:1])
        except (OSError, TimeoutError, DBusErrorResponse) as exc:
            if not fresh_session_allowed:
                raise InjectionError(f"GNOME RemoteDesktop typed nothing: {exc}") from exc
            # the session died while idle (Mutter restarted, the connection broke): nothing is typed yet,
            # so one fresh session may type it all
            log.info("the RemoteDesktop session is gone (%s); opening a new one", exc)
            self._close_locked()
            self._press(keysyms, fresh_session_allowed=False)
            return
        delay_s = self.cfg.type_delay_ms / 1000.0
        batch = 1 if delay_s else KEY_BATCH
        done = 1
        while done < len(keysyms):
            if delay_s:
                time.sleep(delay_s)
            chunk = keysyms[done:done + batch]
            try:
                self._keys(conn, session, chunk)
            except (OSError, TimeoutError, DBusErrorResponse) as exc:
                raise InjectionError(f"GNOME RemoteDesktop stopped after {done} to {done + len(chunk)} of "
                                     f"{len(keysyms)} characters: {exc}") from exc
            done += len(chunk)

    def _keys(self, conn: DBusConnection, session: DBusAddress, keysyms: list[int]) -> None:
        """Press and release `keysyms`; only the last call waits for Mutter's answer."""
        from jeepney import MessageFlag, new_method_call

        calls = [new_method_call(session, "NotifyKeyboardKeysym", "ub", (keysym, pressed))
                 for keysym in keysyms for pressed in (True, False)]
        for call in calls[:-1]:
            call.header.flags |= MessageFlag.no_reply_expected
            conn.send(call)
        self._send(conn, calls[-1])

    def _open(self) -> tuple[DBusConnection, DBusAddress]:
        if self._conn is not None and self._session is not None:
            return self._conn, self._session
        from jeepney import DBusAddress
        from jeepney.io.blocking import open_dbus_connection
        from jeepney.wrappers import DBusErrorResponse

        address = session_bus_address(self.environ)
        if address is None:
            raise InjectionError("no D-Bus session bus to reach GNOME's RemoteDesktop service")
        try:
            conn = open_dbus_connection(address, enable_fds=True, auth_timeout=CALL_TIMEOUT_S)
        except (OSError, ValueError, TimeoutError) as exc:
            raise InjectionError(f"cannot connect to the D-Bus session bus at {address}: {exc}") from exc
        try:
            service = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=BUS_NAME)
            path = str(self._call(conn, service, "CreateSession")[0])
            session = DBusAddress(path, bus_name=BUS_NAME, interface=SESSION_INTERFACE)
            self._call(conn, session, "Start")
        except (OSError, TimeoutError, DBusErrorResponse) as exc:
            conn.close()
            raise InjectionError(f"GNOME RemoteDesktop refused a session: {exc}") from exc
        log.debug("RemoteDesktop session %s started", path)
        self._conn, self._session = conn, session
        return conn, session

    @staticmethod
    def _call(conn: DBusConnection, address: DBusAddress, method: str, signature: str | None = None,
              body: tuple[object, ...] = ()) -> tuple[object, ...]:
        from jeepney import new_method_call

        return RemoteDesktopInjector._send(conn, new_method_call(address, method, signature, body))

    @staticmethod
    def _send(conn: DBusConnection, message: Message) -> tuple[object, ...]:
        from jeepney.wrappers import unwrap_msg

        return tuple(unwrap_msg(conn.send_and_get_reply(message, timeout=CALL_TIMEOUT_S)))

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        conn, session = self._conn, self._session
        self._conn = self._session = None
        if conn is None:
            return
        try:
            if session is not None:
                self._call(conn, session, "Stop")
        except Exception as exc:  # closing must not fail; the bus ends the session anyway
            log.debug("stopping the RemoteDesktop session: %s", exc)
        finally:
            conn.close()
