"""Typing through helper programs: xdotool (X11), wtype and ydotool (Wayland)."""

from __future__ import annotations

import logging
import os

from onevox.config import InjectionConfig
from onevox.desktop import detect_session
from onevox.errors import InjectionError
from onevox.inject.base import InjectionMethod, session_tool_reason
from onevox.inject.session import run_tool
from onevox.inject.xkeyboard import SharedKeyboard

log = logging.getLogger(__name__)

XDOTOOL_UNICODE_DELAY_MS = 12  # below its default delay xdotool drops non-ASCII characters


class XdotoolInjector(InjectionMethod):
    """`xdotool type`. Left alone, xdotool puts characters missing from the keyboard map on a spare keycode
    one at a time, too fast for the receiver: it drops them with no delay, and lower-cases capitals ("Ü"
    arrives as "ü"). So the characters are put on the map first (XKeyboard.characters_mapped); when that is
    impossible, xdotool gets at least its default delay."""

    name = "xdotool"

    def __init__(self, cfg: InjectionConfig, session: str | None = None,
                 keyboard: SharedKeyboard | None = None) -> None:
        self.cfg = cfg
        self.session = session or detect_session()
        self.keyboard = keyboard or SharedKeyboard()

    def unavailable_reason(self) -> str | None:
        return session_tool_reason(self.session, "x11", "xdotool")

    def _deliver(self, text: str) -> None:
        if text.isascii():
            self._type(text, self.cfg.type_delay_ms)
            return
        try:
            keyboard = self.keyboard.get()
        except InjectionError as exc:
            log.debug("cannot prepare the keyboard map for xdotool: %s", exc)
            self._type(text, max(self.cfg.type_delay_ms, XDOTOOL_UNICODE_DELAY_MS))
            return
        with keyboard.characters_mapped(text):
            self._type(text, self.cfg.type_delay_ms)

    def _type(self, text: str, delay: int) -> None:
        run_tool(["xdotool", "type", "--clearmodifiers", "--delay", str(delay), "--", text],
                 timeout=10.0 + len(text) * delay / 1000.0)


class WtypeInjector(InjectionMethod):
    """`wtype` (wlroots compositors such as sway and Hyprland: the virtual-keyboard protocol). Its exit
    status 0 only says the keys were sent (the protocol has no acknowledgement from the window); a failure
    exit (no compositor, no virtual-keyboard protocol, a bad argument) is an InjectionError with stderr."""

    name = "wtype"

    def __init__(self, cfg: InjectionConfig, session: str | None = None) -> None:
        self.cfg = cfg
        self.session = session or detect_session()

    def unavailable_reason(self) -> str | None:
        return session_tool_reason(self.session, "wayland", "wtype")

    def _deliver(self, text: str) -> None:
        delay = self.cfg.type_delay_ms
        run_tool(wtype_type_args(delay), stdin=text.encode("utf-8"), env=utf8_environment(),
                 timeout=10.0 + len(text) * delay / 1000.0)


def wtype_type_args(delay_ms: int) -> list[str]:
    """`wtype` reading the text from stdin, `delay_ms` between characters. wtype 0.4 rejects `-d 0`
    ("Invalid sleep time") and types without a delay by default, so -d is given only when positive."""
    return ["wtype", *(["-d", str(delay_ms)] if delay_ms > 0 else []), "-"]


class YdotoolInjector(InjectionMethod):
    """`ydotool type` through uinput (any compositor; needs ydotoold and access to /dev/uinput).
    It types with a US layout and cannot type characters outside ASCII, so such text is refused."""

    name = "ydotool"

    def __init__(self, cfg: InjectionConfig, session: str | None = None) -> None:
        self.cfg = cfg
        self.session = session or detect_session()

    def unavailable_reason(self) -> str | None:
        return session_tool_reason(self.session, "wayland", "ydotool")

    def _deliver(self, text: str) -> None:
        if not text.isascii():
            odd = "".join(sorted({c for c in text if not c.isascii()}))
            raise InjectionError(f"ydotool cannot type non-ASCII characters ({odd})")
        delay = self.cfg.type_delay_ms
        # the text goes through stdin: an argument could be read as an option, and nothing touches the disk
        run_tool(["ydotool", "type", "--key-delay", str(delay), "--file", "/dev/stdin"],
                 stdin=text.encode("utf-8"), timeout=10.0 + len(text) * delay / 1000.0)


def utf8_environment() -> dict[str, str]:
    """Our environment with a UTF-8 character type (wtype mangles non-ASCII text otherwise)."""
    env = dict(os.environ)
    ctype = env.get("LC_ALL") or env.get("LC_CTYPE") or env.get("LANG") or ""
    if "utf-8" not in ctype.lower() and "utf8" not in ctype.lower():
        env["LC_ALL"] = "C.UTF-8"
    return env
