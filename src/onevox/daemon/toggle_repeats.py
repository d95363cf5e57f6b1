"""`onevox toggle` run by a desktop shortcut that repeats while its keys are held.

GNOME (and any desktop whose custom shortcuts follow key repeat) runs the shortcut's command again on every
repeat of a held chord: after the repeat delay, then at the repeat rate. Taken one by one those runs flip the
dictation on and off many times a second. A repeat is told from a tap by the gap before it: a run issued
closer to the previous one than `gap_s` is a repeat (no hand taps that fast; the repeat rate is faster).

When a run was issued is the moment the desktop started its process, read from /proc through the IPC peer's
pid: a new Python process takes tens of milliseconds to start and connect, and far longer on a busy machine,
so arrival times jitter by more than the repeat interval while the start times keep the desktop's rhythm.

The first repeat comes a whole repeat delay after the press, so it looks like a second tap. A stop that
comes less than FIRST_REPEAT_S after its start waits one gap for a second repeat, which shows it was a hold:
the dictation goes on, one piece. Otherwise the second repeat undoes what the first did (a stop becomes a
new dictation, the warm microphone's pre-roll bridging the gap; a start is stopped again). While repeats go on
nothing changes. When none has arrived for `release_s`, the keys were let go, and a dictation the held chord
kept going is stopped: holding the chord works as push-to-talk, tapping it as a toggle. A late run started
after that decision shows the chord was still held: the dictation goes on in a new one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

Result = dict[str, Any]
RELEASE_S = 0.3  # no run for this long: the chord was let go (arrivals, not starts: it must cover jitter)
RECENT_S = 5.0  # a process older than this when it asks is not a shortcut's run: its arrival time counts
# A stop this soon after the start may be a held chord's first repeat (desktops repeat after 0.2-1 s): it
# waits one gap for a second repeat, so a hold is one dictation. Longer dictations stop at once.
FIRST_REPEAT_S = 1.0


class Cancellable(Protocol):
    def cancel(self) -> None: ...


Schedule = Callable[[float, Callable[[], None]], Cancellable]  # run fn after delay_s (a timer)


def thread_timer(delay_s: float, fn: Callable[[], None]) -> Cancellable:
    timer = threading.Timer(delay_s, fn)
    timer.daemon = True
    timer.start()
    return timer


def boot_clock() -> float:
    """Seconds since boot: the clock /proc gives process start times on."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def process_started(pid: int) -> float | None:
    """When process `pid` started, on `boot_clock()`; None when it cannot be read (gone, not Linux)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2:].split()  # the name in parentheses may hold spaces
    try:
        return int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of proc(5): starttime in ticks
    except (IndexError, ValueError, OSError):
        return None


@dataclass(frozen=True)
class ToggleActions:
    """What the filter drives: the controller's commands, and whether it is recording now."""

    start: Callable[[], Result]
    stop: Callable[[], Result]
    recording: Callable[[], bool]
    status: Callable[[], Result]


class ToggleRepeats:
    """Filters IPC `toggle` commands (thread-safe). `gap_s()` (read at each toggle: a reload may change it)
    0 turns the filter off: every toggle flips."""

    def __init__(self, actions: ToggleActions, gap_s: Callable[[], float], *,
                 now: Callable[[], float] = boot_clock, schedule: Schedule = thread_timer,
                 started: Callable[[int], float | None] = process_started,
                 release_s: float = RELEASE_S) -> None:
        self.actions = actions
        self.gap_s = gap_s
        self.now = now
        self.schedule = schedule
        self.started = started
        self.release_s = release_s
        self._lock = threading.Lock()
        self._last_issued: float | None = None  # when the previous toggle was issued
        self._last_pid: int | None = None
        self._last_started = False  # whether the previous toggle started a dictation (else it stopped one)
        self._held = False  # repeats came: the chord is (or was, once `_let_go_at` is set) held
        self._held_recording = False  # the held chord keeps a dictation going, stopped when it is let go
        self._let_go_at: float | None = None  # when the hold was taken to have ended
        self._timer: Cancellable | None = None
        self._started_at: float | None = None  # when the toggle that started the dictation was issued
        self._pending_stop: Cancellable | None = None  # a stop waiting to see whether a repeat follows
        self.repeats = 0  # toggles taken as repeats (for tests and the log)

    def toggle(self, pid: int | None = None) -> Result:
        """One `toggle` command; `pid` is the process that sent it, when known."""
        with self._lock:
            now, gap_s = self.now(), self.gap_s()
            issued = self._issued(pid, now)
            log.debug("toggle from pid %s issued %.3f s ago (%.3f after the newest before)", pid,
                      now - issued, issued - (self._last_issued or issued))
            # runs may arrive out of order: a run issued before the newest one seen is a repeat too
            previous = self._last_issued
            self._last_issued = issued if previous is None else max(previous, issued)
            if gap_s <= 0:
                return self._tap(issued, gap_s)
            let_go_at = self._let_go_at
            if self._held and let_go_at is None:  # held: every run is a repeat until the let-go
                return self._repeat(arm=True)
            if self._held and let_go_at is not None and issued <= let_go_at:  # a late run of the ended hold
                return self._repeat(arm=False)
            if previous is None or issued - previous >= gap_s:
                return self._tap(issued, gap_s)
            if self._pending_stop is not None:  # the stop was a first repeat: one dictation, held
                self._pending_stop.cancel()
                self._pending_stop = None
                self._repeat(arm=True)
                self._held, self._held_recording = True, True
                log.info("`onevox toggle` repeats: the shortcut is held, so it talks while held")
                return {**self.actions.status(), "repeat": True}
            if self._held:  # started after the hold was taken to have ended: it was still held
                self._let_go_at = None
                result = self._repeat(arm=True)
                if self._held_recording:
                    log.info("`onevox toggle`: the shortcut is still held; the dictation goes on")
                    result = {**self.actions.start(), "repeat": True}
                return result
            self._repeat(arm=True)
            self._held = True
            log.info("`onevox toggle` repeats: the shortcut is held, so it talks while held")
            # the toggle before this one was the first repeat: undo it
            self._held_recording = not self._last_started
            return {**(self.actions.start() if self._held_recording else self.actions.stop()), "repeat": True}

    def _repeat(self, *, arm: bool) -> Result:
        self.repeats += 1
        if arm:
            self._arm_timer()
        return {**self.actions.status(), "repeat": True}

    def _issued(self, pid: int | None, now: float) -> float:
        started = self.started(pid) if pid is not None and pid != self._last_pid else None
        self._last_pid = pid
        if started is None or not now - RECENT_S <= started <= now:
            return now
        return started

    def _tap(self, issued: float, gap_s: float) -> Result:
        self._held, self._held_recording, self._let_go_at = False, False, None
        if self._pending_stop is not None:  # a tap after the wait: that stop is due now
            self._pending_stop.cancel()
            self._pending_stop = None
            self.actions.stop()
        self._last_started = not self.actions.recording()
        if self._last_started:
            self._started_at = issued
            return self.actions.start()
        started_at, self._started_at = self._started_at, None
        if gap_s > 0 and started_at is not None and issued - started_at < FIRST_REPEAT_S:
            timer: list[Cancellable] = []
            timer.append(self.schedule(gap_s, lambda: self._stop_now(timer[0])))
            self._pending_stop = timer[0]
            return {**self.actions.status(), "stopping": True}
        return self.actions.stop()

    def _stop_now(self, timer: Cancellable) -> None:
        """No repeat followed the stop: it was a tap."""
        with self._lock:
            if timer is not self._pending_stop:
                return
            self._pending_stop = None
            if self.actions.recording():
                self.actions.stop()

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        timer: list[Cancellable] = []
        timer.append(self.schedule(self.release_s, lambda: self._let_go(timer[0])))
        self._timer = timer[0]

    def _let_go(self, timer: Cancellable) -> None:
        """No repeat arrived for release_s: the chord was let go."""
        with self._lock:
            if timer is not self._timer or not self._held:
                return  # a newer repeat re-armed the timer, or a tap ended the hold
            self._timer, self._let_go_at = None, self.now()
            if self._held_recording and self.actions.recording():
                self.actions.stop()
