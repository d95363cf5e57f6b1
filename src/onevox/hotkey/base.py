"""The interface every global hotkey backend implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# called with "start", "stop" or "cancel" from the listener's own thread; must return quickly
CommandCallback = Callable[[str], None]
# called with one line saying why the hotkey stopped working after start() (from the listener's thread)
ProblemCallback = Callable[[str], None]


class HotkeyListener(Protocol):
    """What the daemon needs from a hotkey backend: commands go out through the CommandCallback it was
    made with; the daemon starts it, stops it, and tells it each time a dictation starts or ends."""

    backend: str  # 'x11', 'portal' or 'evdev'

    def start(self) -> None:
        """Begin listening (on a thread of its own); HotkeyError when the keys cannot be watched."""
        ...

    def stop(self) -> None:
        """Stop listening and release everything held (grabs, devices). Safe to call twice."""
        ...

    def sync(self, recording: bool) -> None:
        """A dictation started (True) or ended (False), by the hotkey or by another route (IPC, max
        duration, an error). A toggle gesture follows it, so that the next press starts when idle and stops
        when recording; push-to-talk ignores it. Called from any thread; must return quickly."""
        ...
