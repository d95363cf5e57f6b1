"""The type method: every character as a key press through XTEST (X11), exact for any Unicode.

Slower than paste for long texts but leaves the clipboard alone, and works where pasting is wrong.
"""

from __future__ import annotations

from onevox.config import InjectionConfig
from onevox.desktop import detect_session
from onevox.inject.base import InjectionMethod
from onevox.inject.xkeyboard import SharedKeyboard


class TypeInjector(InjectionMethod):
    name = "type"

    def __init__(self, cfg: InjectionConfig, session: str | None = None,
                 keyboard: SharedKeyboard | None = None) -> None:
        self.cfg = cfg
        self.session = session or detect_session()
        self.keyboard = keyboard or SharedKeyboard()

    def unavailable_reason(self) -> str | None:
        if self.session != "x11":
            return "needs an X11 session (XTEST); on Wayland use wtype or ydotool"
        return None

    def _deliver(self, text: str) -> None:
        self.keyboard.get().type_text(text, self.cfg.type_delay_ms)

    def close(self) -> None:
        self.keyboard.close()
