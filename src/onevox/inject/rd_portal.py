"""Typing through the XDG RemoteDesktop portal (org.freedesktop.portal.RemoteDesktop): KDE Plasma through
xdg-desktop-portal-kde, GNOME through xdg-desktop-portal-gnome. No helper program and no authorisation file;
the desktop may ask the user once, and the restore token it hands back keeps that consent for later runs
(rd_portal_session.py has the session, portal_token.py the token). The session serves every dictation.

Keys are X keysyms (NotifyKeyboardKeysym). Like Mutter, the portal backends type a keysym only when the
current layout has a key for it and drop any other silently (measured on KDE 5.27, docs/kde.md), so this
method types printable ASCII, newline and tab. Other text goes whole on the clipboard with wl-copy where the
compositor offers a data-control clipboard (KDE, wlroots), and the paste keys are pressed through the
portal; where it offers none (GNOME) the whole text is refused with one line naming the characters, and
"auto" moves on. A text is never typed in part.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from onevox.config import InjectionConfig
from onevox.desktop import portals
from onevox.desktop.keys import MODIFIER_ORDER, Hotkey
from onevox.errors import InjectionError
from onevox.inject.base import InjectionMethod
from onevox.inject.portal_token import RestoreTokenStore
from onevox.inject.rd_portal_session import ROUTE, PortalSession, portal_address, portal_reason
from onevox.inject.remote_desktop import layout_keysyms

if TYPE_CHECKING:
    from jeepney.io.blocking import DBusConnection

    from onevox.inject.clipboard import Clipboard
    from onevox.inject.paste import PasteInjector

log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 5.0  # a method call, or a Response that needs no user
CONSENT_TIMEOUT_S = 120.0  # Start's Response, which may wait for the user to answer a dialog
DATA_CONTROL = ("zwlr_data_control_manager_v1", "ext_data_control_manager_v1")
MODIFIER_KEYSYMS = {"ctrl": 0xFFE3, "shift": 0xFFE1, "alt": 0xFFE9, "super": 0xFFEB}  # the left-hand keys


def chord_keysyms(combo: Hotkey) -> list[int]:
    """The keysyms to press, in order (modifiers first), for `combo`; released in reverse."""
    from Xlib import XK

    key = XK.string_to_keysym(combo.names.x_keysym)
    if not key:
        raise InjectionError(f"no keysym for {combo.names.x_keysym!r}")
    return [*(MODIFIER_KEYSYMS[m] for m in MODIFIER_ORDER if m in combo.modifiers), key]


class PortalPaste:
    """A paste backend (inject/paste.py): wl-copy's clipboard, the paste keys through the portal session."""

    broken = False

    def __init__(self, keys: PortalInjector) -> None:
        from onevox.inject.clipboard import tool_clipboard

        self.keys = keys
        self.clipboard = tool_clipboard("wayland")
        self.name = f"{self.clipboard.name}+portal"

    def clipboard_for(self, text: str) -> Clipboard:
        return self.clipboard

    def press(self, combo: Hotkey) -> None:
        self.keys.press_combo(combo)

    def window_class(self) -> str:
        return ""  # a Wayland client learns nothing about other windows

    def close(self) -> None:
        pass


class PortalInjector(InjectionMethod):
    """Key presses through org.freedesktop.portal.RemoteDesktop, one session kept open."""

    name = "portal"

    def __init__(self, cfg: InjectionConfig, environ: Mapping[str, str] | None = None, *,
                 tokens: RestoreTokenStore | None = None, consent_timeout: float = CONSENT_TIMEOUT_S,
                 call_timeout: float = CALL_TIMEOUT_S) -> None:
        self.cfg = cfg
        self.environ = environ
        self.tokens = tokens or RestoreTokenStore()
        self.consent_timeout = consent_timeout
        self.call_timeout = call_timeout
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.session = PortalSession(self.tokens, consent_timeout, call_timeout, self._closing)
        self._paster: PasteInjector | None = None

    def _env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    # -- availability (no session, no dialog) ---------------------------------------------------------

    def unavailable_reason(self) -> str | None:
        if self.session.refused:
            return self.session.refused
        if self.session.is_open:
            return None
        address = portals.session_bus_address(self._env())
        if not address:
            return ("no D-Bus session bus to reach (DBUS_SESSION_BUS_ADDRESS is unset or names a socket that "
                    "is gone, and there is no $XDG_RUNTIME_DIR/bus)")
        try:
            import jeepney  # noqa: F401
        except ImportError:
            return "the jeepney package is not installed"
        try:
            return portal_reason(address, self._env(), self.call_timeout)
        except (OSError, ValueError, TimeoutError, EOFError) as exc:
            return f"cannot reach the D-Bus session bus at {address}: {exc}"

    # -- delivering -----------------------------------------------------------------------------------

    def _deliver(self, text: str) -> None:
        try:
            keysyms = layout_keysyms(text, ROUTE)
        except InjectionError as refused:
            self._paste(text, refused)
            return
        with self._lock:
            self._press(keysyms, fresh_session_allowed=True)

    def _paste(self, text: str, refused: InjectionError) -> None:
        """`text` whole through the clipboard (wl-copy) and the paste keys pressed through the portal, where
        the compositor has a data-control clipboard; else InjectionError naming the characters."""
        from onevox.desktop.session import display_socket
        from onevox.desktop.wayland import wayland_globals
        from onevox.inject.session import have_tool

        missing = [t for t in ("wl-copy", "wl-paste") if not have_tool(t)]
        if missing:
            raise InjectionError(f"{refused} (pasting it instead needs {', '.join(missing)}: install "
                                 "wl-clipboard)")
        socket = display_socket(self._env())
        offered = wayland_globals(socket) if socket else None
        if offered is not None and not any(name in offered for name in DATA_CONTROL):
            raise InjectionError(f"{refused}; this compositor has no data-control clipboard for wl-copy "
                                 "(GNOME: the remote-desktop method pastes such text)")
        if self._paster is None:
            from onevox.inject.paste import PasteInjector

            self._paster = PasteInjector(self.cfg, "wayland", backend=PortalPaste(self))
        self._paster.inject(text)

    def press_keysyms(self, keysyms: list[int]) -> None:
        """Press and release each keysym in turn (keys that type no character, such as BackSpace)."""
        reason = self.unavailable_reason()
        if reason:
            raise InjectionError(f"{self.name}: {reason}")
        if keysyms:
            with self._lock:
                self._press(keysyms, fresh_session_allowed=True)

    def press_combo(self, combo: Hotkey) -> None:
        """Press `combo`'s keys (modifiers first) and release them in reverse: the paste chord."""
        keysyms = chord_keysyms(combo)
        with self._lock:
            self._press_chord(keysyms, fresh_session_allowed=True)

    def _press_chord(self, keysyms: list[int], fresh_session_allowed: bool) -> None:
        from jeepney.wrappers import DBusErrorResponse

        conn, session = self._open()
        steps = [(k, True) for k in keysyms] + [(k, False) for k in reversed(keysyms)]
        try:
            self._notify(conn, session, steps)
        except (OSError, EOFError, TimeoutError, DBusErrorResponse) as exc:
            self.session.close()
            if not fresh_session_allowed:
                raise InjectionError(f"{ROUTE} did not press the paste keys: {exc}") from exc
            log.info("the RemoteDesktop portal session is gone (%s); opening a new one", exc)
            self._press_chord(keysyms, fresh_session_allowed=False)

    def _press(self, keysyms: list[int], fresh_session_allowed: bool) -> None:
        """Press and release each keysym, each call waiting for its answer: xdg-desktop-portal handles a
        connection's calls on worker threads, so calls sent without waiting arrive out of order (measured
        on 1.16: "portal ok, typed." came out "portal ok, td.ype"). The first key finds a session that died
        while idle before anything is typed."""
        from jeepney.wrappers import DBusErrorResponse

        conn, session = self._open()
        try:
            self._notify(conn, session, [(keysyms[0], True), (keysyms[0], False)])
        except (OSError, EOFError, TimeoutError, DBusErrorResponse) as exc:
            self.session.close()
            if not fresh_session_allowed:
                raise InjectionError(f"{ROUTE} typed nothing: {exc}") from exc
            log.info("the RemoteDesktop portal session is gone (%s); opening a new one", exc)
            self._press(keysyms, fresh_session_allowed=False)
            return
        delay_s = self.cfg.type_delay_ms / 1000.0
        for done, keysym in enumerate(keysyms[1:], start=1):
            if delay_s:
                self._closing.wait(delay_s)
            try:
                self._notify(conn, session, [(keysym, True), (keysym, False)])
            except (OSError, EOFError, TimeoutError, DBusErrorResponse) as exc:
                self.session.close()
                raise InjectionError(f"{ROUTE} stopped after {done} of {len(keysyms)} characters: "
                                     f"{exc}") from exc

    def _notify(self, conn: DBusConnection, session: str, steps: list[tuple[int, bool]]) -> None:
        """NotifyKeyboardKeysym for each (keysym, pressed), in turn."""
        from jeepney import new_method_call
        from jeepney.wrappers import unwrap_msg

        for keysym, pressed in steps:
            call = new_method_call(portal_address(), "NotifyKeyboardKeysym", "oa{sv}iu",
                                   (session, {}, keysym, 1 if pressed else 0))
            unwrap_msg(conn.send_and_get_reply(call, timeout=self.call_timeout))

    # -- the session ----------------------------------------------------------------------------------

    def _open(self) -> tuple[DBusConnection, str]:
        address = portals.session_bus_address(self._env())
        if not address:
            raise InjectionError("no D-Bus session bus to reach the RemoteDesktop portal")
        return self.session.open(address)

    def close(self) -> None:
        self._closing.set()  # a Start still waiting for the user gives up
        paster, self._paster = self._paster, None
        if paster is not None:
            paster.close()
        with self._lock:
            self.session.close()
        self._closing.clear()
