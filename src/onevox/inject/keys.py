"""Pressing single keys (BackSpace, Enter, Tab) for the edit commands, through the way keys reach windows in
this session: XTEST on X11; on Wayland wtype, GNOME's RemoteDesktop service, the RemoteDesktop portal or
ydotool, in the order the injection stage tries them. Each reuses its injection method's own key sending."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from onevox.config import InjectionConfig
from onevox.desktop.keys import KEYS
from onevox.errors import InjectionError
from onevox.inject.base import session_tool_reason
from onevox.inject.session import run_tool
from onevox.inject.xkeyboard import SharedKeyboard

KEY_NAMES = ("backspace", "enter", "tab")  # the keys the edit commands press
# Linux input event codes (linux/input-event-codes.h) for ydotool, which takes raw codes
EVDEV_CODES = {"backspace": 14, "enter": 28, "tab": 15}
X_KEYSYMS = {"backspace": 0xFF08, "enter": 0xFF0D, "tab": 0xFF09}


class KeySender(Protocol):
    name: str  # 'xtest', 'wtype', 'remote-desktop', 'portal', 'ydotool'; the chain: the one used last

    def unavailable_reason(self) -> str | None:
        """Why keys cannot be sent this way here (None: they can). Cheap, nothing opened."""
        ...

    def press(self, key: str, count: int = 1) -> None:
        """Press and release `key` (one of KEY_NAMES) `count` times; InjectionError when it cannot."""
        ...


class XTestKeys:
    name = "xtest"

    def __init__(self, keyboard: SharedKeyboard | None = None) -> None:
        self.keyboard = keyboard or SharedKeyboard()

    def unavailable_reason(self) -> str | None:
        return None

    def press(self, key: str, count: int = 1) -> None:
        self.keyboard.get().press_key(KEYS[key].x_keysym, count)


class WtypeKeys:
    name = "wtype"

    def __init__(self, session: str) -> None:
        self.session = session

    def unavailable_reason(self) -> str | None:
        return session_tool_reason(self.session, "wayland", "wtype")

    def press(self, key: str, count: int = 1) -> None:
        from onevox.inject.paste import WTYPE_SPARE_KEYS

        # a spare key named last takes the keymap's highest keycode, which GTK 3 ignores (see paste.py)
        run_tool(["wtype", *(["-k", KEYS[key].x_keysym] * count), "-p", WTYPE_SPARE_KEYS[0]])


class YdotoolKeys:
    name = "ydotool"

    def __init__(self, session: str) -> None:
        self.session = session

    def unavailable_reason(self) -> str | None:
        return session_tool_reason(self.session, "wayland", "ydotool")

    def press(self, key: str, count: int = 1) -> None:
        code = EVDEV_CODES[key]
        run_tool(["ydotool", "key", *([f"{code}:1", f"{code}:0"] * count)])


class RemoteDesktopKeys:
    name = "remote-desktop"

    def __init__(self, cfg: InjectionConfig) -> None:
        from onevox.inject.remote_desktop import RemoteDesktopInjector

        self.injector = RemoteDesktopInjector(cfg)

    def unavailable_reason(self) -> str | None:
        return self.injector.unavailable_reason()

    def press(self, key: str, count: int = 1) -> None:
        self.injector.press_keysyms([X_KEYSYMS[key]] * count)


class PortalKeys:
    name = "portal"

    def __init__(self, cfg: InjectionConfig) -> None:
        from onevox.inject.rd_portal import PortalInjector

        self.injector = PortalInjector(cfg)

    def unavailable_reason(self) -> str | None:
        return self.injector.unavailable_reason()

    def press(self, key: str, count: int = 1) -> None:
        self.injector.press_keysyms([X_KEYSYMS[key]] * count)


class FirstAvailableKeys:
    """The first sender that can work here; `name` is the one that pressed last."""

    def __init__(self, senders: Sequence[KeySender], session: str) -> None:
        self.senders = list(senders)
        self.session = session
        self.name = senders[0].name if senders else "none"

    def unavailable_reason(self) -> str | None:
        reasons = [f"{s.name}: {r}" for s in self.senders if (r := s.unavailable_reason())]
        if len(reasons) < len(self.senders):
            return None
        return "; ".join(reasons) or f"no way to send keys in a '{self.session}' session"

    def press(self, key: str, count: int = 1) -> None:
        if key not in KEY_NAMES:
            raise InjectionError(f"no such key for an edit command: {key!r}")
        for sender in self.senders:
            if sender.unavailable_reason() is None:
                sender.press(key, count)  # a failure is not retried another way: some keys may be out
                self.name = sender.name
                return
        raise InjectionError(f"cannot press {key}: {self.unavailable_reason()}")


def create_key_sender(cfg: InjectionConfig, session: str) -> FirstAvailableKeys:
    """The key senders for `session`, in the order its injection methods are tried."""
    from onevox.inject import auto_order

    if session == "x11":
        return FirstAvailableKeys([XTestKeys()], session)
    builders: dict[str, Callable[[], KeySender]] = {
        "wtype": lambda: WtypeKeys(session), "remote-desktop": lambda: RemoteDesktopKeys(cfg),
        "portal": lambda: PortalKeys(cfg), "ydotool": lambda: YdotoolKeys(session)}
    senders = [builders[m]() for m in auto_order(session) if m in builders]
    return FirstAvailableKeys(senders, session)
