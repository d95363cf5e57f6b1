"""The time a dictation is measured by, passed in rather than read from `time` directly, so tests can drive
a dictation in virtual time (no sleeping, no races with the wall clock) while the daemon uses the real one."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (deadlines, waits)."""
        ...

    def perf_ns(self) -> int:
        """Nanoseconds on the high-resolution clock (stage timings, release-to-text)."""
        ...

    def wall(self) -> float:
        """Unix time (what a user sees: a history entry's date, a recording's file name)."""
        ...


class SystemClock:
    """The real clocks of this machine."""

    def monotonic(self) -> float:
        return time.monotonic()

    def perf_ns(self) -> int:
        return time.perf_counter_ns()

    def wall(self) -> float:
        return time.time()


SYSTEM_CLOCK: Clock = SystemClock()
