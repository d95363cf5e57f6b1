"""The global hotkey: parses the configured keys and picks a backend that can see them.

backend "auto": on X11 a key grab on the display; on Wayland (where clients get no global keys) the XDG
GlobalShortcuts portal when the session's portal offers it, else the kernel's input devices when readable,
else None: bind a key in the compositor to `onevox toggle` instead.
"""

from __future__ import annotations

import logging
import os

from onevox.config import HotkeyConfig
from onevox.desktop import detect_session
from onevox.desktop.keys import Hotkey, parse_hotkey
from onevox.desktop.portals import backend_for_this_desktop
from onevox.errors import HotkeyError
from onevox.hotkey.base import CommandCallback, HotkeyListener, ProblemCallback
from onevox.hotkey.gesture import HotkeyGesture

__all__ = ["CommandCallback", "Hotkey", "HotkeyGesture", "HotkeyListener", "ProblemCallback",
           "check_backends", "create_listener", "parse_hotkey"]

log = logging.getLogger(__name__)
GLOBAL_SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"


def create_listener(cfg: HotkeyConfig, on_command: CommandCallback,
                    on_problem: ProblemCallback | None = None) -> HotkeyListener | None:
    """A listener (not started yet) for cfg.trigger, or None when cfg.backend is "none" or, for "auto",
    nothing usable was found. An explicitly chosen backend that cannot work raises HotkeyError.
    `on_problem` hears, in one line, of a failure after start() (the portal's: a cancelled or refused bind,
    the bus gone); the other backends fail only in start()."""
    trigger = parse_hotkey(cfg.trigger)
    cancel = parse_hotkey(cfg.cancel) if cfg.cancel.strip() else None
    gesture = HotkeyGesture(cfg.mode, cfg.min_hold_ms)
    if cfg.backend == "none":
        return None
    if cfg.backend == "x11":
        return _x11(trigger, cancel, gesture, on_command)
    if cfg.backend == "evdev":
        return _evdev(trigger, cancel, gesture, on_command)
    if cfg.backend == "portal":
        return _portal(trigger, cancel, gesture, on_command, on_problem)
    reasons = []
    session = detect_session()
    if session == "x11":
        try:
            return _x11(trigger, cancel, gesture, on_command)
        except HotkeyError as exc:
            reasons.append(f"x11: {exc}")
    elif session == "wayland":
        try:
            return _portal(trigger, cancel, gesture, on_command, on_problem)
        except HotkeyError as exc:
            reasons.append(f"portal: {exc}")
    try:
        return _evdev(trigger, cancel, gesture, on_command)
    except HotkeyError as exc:
        reasons.append(f"evdev: {exc}")
    log.warning("no global hotkey (%s); control dictation with `onevox toggle`", "; ".join(reasons))
    return None


def check_backends(cfg: HotkeyConfig, session: str | None = None) -> list[tuple[str, str | None]]:
    """The backends create_listener(cfg) would try, in order, each with why it cannot work (None: it can).
    Nothing is grabbed: the X display is opened and closed, input devices are opened read-only and closed.
    Empty for backend "none". A bad trigger raises HotkeyError, as create_listener does."""
    trigger = parse_hotkey(cfg.trigger)
    cancel = parse_hotkey(cfg.cancel) if cfg.cancel.strip() else None
    if cfg.backend == "none":
        return []
    if cfg.backend in ("x11", "portal", "evdev"):
        names = [cfg.backend]
    else:
        names = {"x11": ["x11", "evdev"], "wayland": ["portal", "evdev"]}.get(session or detect_session(),
                                                                            ["evdev"])
    found: list[tuple[str, str | None]] = []
    for name in names:
        try:
            if name == "x11":
                _check_x11()
            elif name == "portal":
                _check_portal()
            else:
                _check_evdev(trigger, cancel)
        except HotkeyError as exc:
            found.append((name, str(exc)))
        else:
            found.append((name, None))
    return found


def _check_x11() -> None:
    from onevox.hotkey.x11 import open_display

    open_display().close()


def _check_portal() -> int:
    """The GlobalShortcuts interface's version: one property read, no session, nothing shown to the user."""
    from onevox.hotkey.portal_session import portal_version

    try:
        version = portal_version()
    except ImportError as exc:  # pragma: no cover - jeepney is a dependency
        raise HotkeyError(f"the jeepney package is not installed: {exc}") from exc
    if backend_for_this_desktop(GLOBAL_SHORTCUTS, os.environ) is False:
        desktop = os.environ.get("XDG_CURRENT_DESKTOP", "")
        raise HotkeyError(f"the portal's GlobalShortcuts comes from a backend made for another desktop than "
                          f"{desktop}, which would accept the shortcut and never fire it here")
    return version


def _check_evdev(trigger: Hotkey, cancel: Hotkey | None) -> None:
    from onevox.hotkey.evdev import EvdevTranslator, find_keyboards

    try:
        code = EvdevTranslator(trigger, cancel).trigger_code
    except ImportError as exc:
        raise HotkeyError(f"the evdev package is not installed: {exc}") from exc
    for device in find_keyboards(code):
        device.close()


def _x11(trigger: Hotkey, cancel: Hotkey | None, gesture: HotkeyGesture,
         on_command: CommandCallback) -> HotkeyListener:
    from onevox.hotkey.x11 import X11HotkeyListener

    _check_x11()  # fail now, with the reason, rather than on start()
    return X11HotkeyListener(trigger, gesture, on_command, cancel=cancel)


def _portal(trigger: Hotkey, cancel: Hotkey | None, gesture: HotkeyGesture, on_command: CommandCallback,
            on_problem: ProblemCallback | None) -> HotkeyListener:
    from onevox.hotkey.portal import PortalHotkeyListener

    _check_portal()  # the interface is there; the session is made on start()
    if cancel is not None:
        log.info("the cancel key (%s) is not bound through the portal: a global shortcut would take it from "
                 "every window", cancel)
    return PortalHotkeyListener(trigger, gesture, on_command, on_problem=on_problem)


def _evdev(trigger: Hotkey, cancel: Hotkey | None, gesture: HotkeyGesture,
           on_command: CommandCallback) -> HotkeyListener:
    from onevox.hotkey.evdev import EvdevHotkeyListener

    _check_evdev(trigger, cancel)  # probe access now; the listener opens its own on start()
    return EvdevHotkeyListener(trigger, gesture, on_command, cancel=cancel)
