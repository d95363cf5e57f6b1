"""Pure decisions behind device recovery: is an open stream still delivering, and when to try reopening."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Backoff:
    """Reopen delays that double from `first_s` up to `cap_s`, and start over after a success."""

    first_s: float = 0.25
    cap_s: float = 5.0

    def __post_init__(self) -> None:
        self._next = self.first_s

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self.cap_s, self._next * 2)
        return delay

    def reset(self) -> None:
        self._next = self.first_s


class StallWatch:
    """Tells from a ring's write counter whether a stream still delivers audio: a stream that has
    delivered nothing for `stall_s` (or, just opened, for `first_audio_s`) is considered lost."""

    def __init__(self, stall_s: float = 1.0, first_audio_s: float = 3.0) -> None:
        self.stall_s = stall_s
        self.first_audio_s = first_audio_s
        self._last_written = 0
        self._changed_at = 0.0
        self._delivered = False

    def restart(self, now: float) -> None:
        """A stream was just opened."""
        self._last_written = 0
        self._changed_at = now
        self._delivered = False

    @property
    def delivered(self) -> bool:
        """The stream has delivered at least one block since it was opened."""
        return self._delivered

    def check(self, written: int, now: float) -> str | None:
        """None while healthy, else why the stream is considered lost."""
        if written != self._last_written:
            self._last_written = written
            self._changed_at = now
            self._delivered = True
            return None
        limit = self.stall_s if self._delivered else self.first_audio_s
        if now - self._changed_at > limit:
            what = "no audio" if self._delivered else "no audio since the stream was opened"
            return f"{what} for {now - self._changed_at:.1f} s"
        return None
