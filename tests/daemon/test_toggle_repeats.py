"""`onevox toggle` run on every key repeat of a held desktop shortcut (GNOME does this): a tap toggles, a held
chord talks while held, and no speech is lost in between. Driven in virtual time with a manual timer; the
process start times the daemon reads from /proc are given by the test, and read for real once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onevox.daemon.toggle_repeats import FIRST_REPEAT_S, ToggleActions, ToggleRepeats

GAP_S = 0.12
DELAY_S, RATE_S = 0.5, 0.03  # GNOME's default repeat delay and interval


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def perf_ns(self) -> int:
        return int(self.now * 1e9)

    def wall(self) -> float:
        return self.now


class Timers:
    """Timers that fire when the test moves the clock past them."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.pending: list[Timer] = []

    def __call__(self, delay_s: float, fn: Callable[[], None]) -> Timer:
        timer = Timer(self.clock.now + delay_s, fn)
        self.pending.append(timer)
        return timer

    def advance(self, seconds: float) -> None:
        end = self.clock.now + seconds
        while True:
            due = sorted((t for t in self.pending if not t.cancelled and t.at <= end), key=lambda t: t.at)
            if not due:
                break
            self.clock.now = due[0].at
            self.pending.remove(due[0])
            due[0].fn()
        self.clock.now = end


class Timer:
    def __init__(self, at: float, fn: Callable[[], None]) -> None:
        self.at, self.fn, self.cancelled = at, fn, False

    def cancel(self) -> None:
        self.cancelled = True


class Daemon:
    def __init__(self) -> None:
        self.recording = False
        self.log: list[str] = []

    def start(self) -> dict[str, Any]:
        self.recording = True
        self.log.append("start")
        return {"started": True}

    def stop(self) -> dict[str, Any]:
        self.recording = False
        self.log.append("stop")
        return {"stopped": True}


def make(gap_s: float = GAP_S) -> tuple[ToggleRepeats, Daemon, Timers]:
    clock, daemon = Clock(), Daemon()
    timers = Timers(clock)
    actions = ToggleActions(start=daemon.start, stop=daemon.stop, recording=lambda: daemon.recording,
                            status=lambda: {"state": "recording" if daemon.recording else "idle"})
    return ToggleRepeats(actions, lambda: gap_s, now=clock.monotonic, schedule=timers,
                         started=lambda pid: None), daemon, timers


def hold(toggles: ToggleRepeats, timers: Timers, seconds: float) -> None:
    """A chord held for `seconds`: the command runs at the press, after the delay, then at the rate."""
    toggles.toggle()
    t = DELAY_S
    timers.advance(DELAY_S)
    while t <= seconds:
        toggles.toggle()
        timers.advance(RATE_S)
        t += RATE_S
    timers.advance(max(seconds - (t - RATE_S), 0.0) + 1.0)  # let go, then nothing for a while


def test_taps_toggle() -> None:
    toggles, daemon, timers = make()
    for _ in range(4):
        toggles.toggle()
        timers.advance(0.8)
    assert daemon.log == ["start", "stop", "start", "stop"] and toggles.repeats == 0


def test_a_held_chord_talks_while_held_and_stops_when_let_go() -> None:
    toggles, daemon, timers = make()
    hold(toggles, timers, 2.0)
    # the first repeat looked like a tap, so its stop waited a gap: the second repeat showed it was a hold
    assert daemon.log == ["start", "stop"] and not daemon.recording
    assert toggles.repeats > 40


def test_a_held_chord_while_recording_stops_once() -> None:
    toggles, daemon, timers = make()
    toggles.toggle()
    timers.advance(3.0)
    hold(toggles, timers, 1.5)
    # press: stop; first repeat: start; second repeat: that start undone; nothing when let go
    assert daemon.log == ["start", "stop", "start", "stop"] and not daemon.recording


def test_a_quick_stop_waits_one_gap_for_a_repeat_and_a_long_one_does_not() -> None:
    toggles, daemon, timers = make()
    toggles.toggle()
    timers.advance(0.6)
    assert toggles.toggle().get("stopping")  # could be a held chord's first repeat
    assert daemon.recording
    timers.advance(GAP_S)  # no repeat: it was a tap
    assert daemon.log == ["start", "stop"]
    toggles.toggle()
    timers.advance(FIRST_REPEAT_S + 0.1)
    toggles.toggle()
    assert daemon.log == ["start", "stop", "start", "stop"]  # at once


def test_a_held_chord_shorter_than_the_repeat_delay_is_a_tap() -> None:
    toggles, daemon, timers = make()
    hold(toggles, timers, 0.4)
    assert daemon.log == ["start"] and daemon.recording


def test_taps_after_a_held_chord_toggle_again() -> None:
    toggles, daemon, timers = make()
    hold(toggles, timers, 1.0)
    toggles.toggle()
    timers.advance(1.0)
    toggles.toggle()
    assert daemon.log[-2:] == ["start", "stop"] and not daemon.recording


def test_gap_zero_flips_on_every_toggle() -> None:
    toggles, daemon, timers = make(gap_s=0.0)
    for _ in range(3):
        toggles.toggle()
        timers.advance(RATE_S)
    assert daemon.log == ["start", "stop", "start"]


def test_a_stop_from_elsewhere_during_the_hold_is_not_undone_when_let_go() -> None:
    toggles, daemon, timers = make()
    toggles.toggle()
    timers.advance(DELAY_S)
    toggles.toggle()
    timers.advance(RATE_S)
    toggles.toggle()  # held: talking again
    assert daemon.recording
    daemon.stop()  # max duration, an IPC stop, the cancel key
    timers.advance(1.0)
    assert daemon.log == ["start", "stop"] and not daemon.recording


def test_start_times_not_arrivals_tell_repeats_on_a_busy_machine() -> None:
    """Each run is a new process: started every 30 ms by the desktop, but connecting 0-400 ms later."""
    import random

    clock, daemon = Clock(), Daemon()
    timers = Timers(clock)
    spawned: dict[int, float] = {}
    actions = ToggleActions(start=daemon.start, stop=daemon.stop, recording=lambda: daemon.recording,
                            status=lambda: {})
    toggles = ToggleRepeats(actions, lambda: GAP_S, now=clock.monotonic, schedule=timers,
                            started=spawned.get)
    rng = random.Random(7)
    press = clock.now
    runs = [0.0, *(DELAY_S + i * RATE_S for i in range(50))]  # held 2 s
    arrivals = sorted((press + t + rng.uniform(0.0, 0.25), pid) for pid, t in enumerate(runs, 1000))
    for pid, t in enumerate(runs, 1000):
        spawned[pid] = press + t
    for at, pid in arrivals:
        timers.advance(max(at - clock.now, 0.0))
        toggles.toggle(pid)
    timers.advance(1.0)
    assert daemon.log == ["start", "stop"] and not daemon.recording


def test_a_late_run_started_after_the_let_go_decision_goes_on_talking() -> None:
    clock, daemon = Clock(), Daemon()
    timers = Timers(clock)
    spawned: dict[int, float] = {}
    actions = ToggleActions(start=daemon.start, stop=daemon.stop, recording=lambda: daemon.recording,
                            status=lambda: {})
    toggles = ToggleRepeats(actions, lambda: GAP_S, now=clock.monotonic, schedule=timers,
                            started=spawned.get)
    for pid, t in ((1, 0.0), (2, DELAY_S), (3, DELAY_S + RATE_S)):
        spawned[pid] = 100.0 + t
    toggles.toggle(1)
    timers.advance(DELAY_S)
    toggles.toggle(2)
    timers.advance(RATE_S)
    toggles.toggle(3)  # held: talking
    timers.advance(0.5)  # no run arrived for a while: taken as let go
    assert daemon.log == ["start", "stop"]
    decided = clock.now - 0.2
    spawned[4] = decided - 0.02  # runs from before that decision arrive late: nothing
    toggles.toggle(4)
    assert not daemon.recording
    spawned[5] = decided + 0.01  # started after it: the chord was still held
    toggles.toggle(5)
    assert daemon.recording  # talks on
    spawned[6] = decided - 0.3  # another straggler: nothing
    toggles.toggle(6)
    assert daemon.recording
    timers.advance(1.0)
    assert daemon.log == ["start", "stop", "start", "stop"]


def test_the_same_process_asking_twice_is_timed_by_arrival() -> None:
    clock, daemon = Clock(), Daemon()
    timers = Timers(clock)
    actions = ToggleActions(start=daemon.start, stop=daemon.stop, recording=lambda: daemon.recording,
                            status=lambda: {})
    toggles = ToggleRepeats(actions, lambda: GAP_S, now=clock.monotonic, schedule=timers,
                            started=lambda pid: 100.0)
    toggles.toggle(42)
    timers.advance(1.0)
    toggles.toggle(42)  # one client sending two toggles a second apart: a tap, not a repeat
    assert daemon.log == ["start", "stop"]


def test_process_start_times_are_read_from_proc() -> None:
    import os
    import subprocess
    import time as systime

    from onevox.daemon.toggle_repeats import boot_clock, process_started

    before = boot_clock()
    child = subprocess.Popen(["sleep", "5"])
    try:
        started = process_started(child.pid)
        assert started is not None and before - 0.02 <= started <= boot_clock()
        assert process_started(os.getpid()) is not None and process_started(os.getpid()) < before
    finally:
        child.kill()
        child.wait()
    systime.sleep(0)
    assert process_started(2**22 + 12345) is None  # no such process
