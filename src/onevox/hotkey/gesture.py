"""What a press and release of the hotkey mean, as a pure state machine (no keyboard, no clock).

Backends report the hotkey going down and up (with a time in seconds) and the cancel key; the gesture answers
with the command to send: "start", "stop", "cancel" or None. Auto-repeat (a second key_down while the key is
held) is ignored in both modes.
"""

from __future__ import annotations

from onevox.errors import HotkeyError

MODES = ("push-to-talk", "toggle")


class HotkeyGesture:
    def __init__(self, mode: str, min_hold_ms: int) -> None:
        if mode not in MODES:
            raise HotkeyError(f"hotkey mode {mode!r} is not one of: {', '.join(MODES)}")
        if min_hold_ms < 0:
            raise HotkeyError(f"min_hold_ms must be 0 or more, got {min_hold_ms}")
        self.mode = mode
        self.min_hold_s = min_hold_ms / 1000.0
        self._held = False  # the hotkey is down right now
        self._active = False  # a dictation started by this gesture is going on
        self._down_at = 0.0

    @property
    def active(self) -> bool:
        return self._active

    @property
    def held(self) -> bool:
        return self._held

    def key_down(self, t: float) -> str | None:
        if self._held:
            return None  # auto-repeat
        self._held = True
        self._down_at = t
        if self.mode == "toggle":
            self._active = not self._active
            return "start" if self._active else "stop"
        if self._active:
            return None
        self._active = True
        return "start"

    def key_up(self, t: float) -> str | None:
        if not self._held:
            return None
        self._held = False
        if self.mode == "toggle" or not self._active:
            return None
        self._active = False
        held_for = t - self._down_at + 1e-9  # times are float seconds: 1.15 - 1.0 < 0.15
        return "cancel" if held_for < self.min_hold_s else "stop"

    def cancel(self) -> str | None:
        """The cancel key was pressed: throw the dictation away if one is going on."""
        if not self._active:
            return None
        self._active = False
        return "cancel"

    def sync(self, active: bool) -> None:
        """The dictation was started or ended by another route (IPC, max duration, an error): follow it, so
        the next press in toggle mode does what the user expects (start when idle, stop when recording)."""
        self._active = active

    def reset(self) -> None:
        self._held = False
        self._active = False
