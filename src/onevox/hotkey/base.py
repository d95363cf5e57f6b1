"""The interface every global hotkey backend implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# called with "start", "stop" or "cancel" from the listener's own thread; must return quickly
CommandCallback = Callable[[str], None]


class HotkeyListener(Protocol):
    backend: str  # 'x11' or 'evdev'

    def start(self) -> None:
        """Begin listening (on a thread of its own); HotkeyError when the keys cannot be watched."""
        ...

    def stop(self) -> None:
        """Stop listening and release everything held (grabs, devices). Safe to call twice."""
        ...
