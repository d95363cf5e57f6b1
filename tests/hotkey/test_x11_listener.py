"""The X11 hotkey listener on a real X server (Xvfb), driven by xdotool as a user's key presses would be,
with key auto-repeat on (Xvfb's default) and off (-r)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from onevox.desktop.keys import parse_hotkey
from onevox.errors import HotkeyError
from onevox.hotkey.gesture import HotkeyGesture
from onevox.hotkey.x11 import X11HotkeyListener
from tests.hotkey.recorder import Recorder
from tests.support.desktop import VirtualDesktop

pytestmark = pytest.mark.e2e

HOLD_S = 1.0  # longer than Xvfb's auto-repeat delay (660 ms), so repeats happen when it is on


@pytest.fixture
def listen(desktop: VirtualDesktop) -> Iterator:
    started: list[X11HotkeyListener] = []

    def make(trigger: str = "ctrl+shift+space", mode: str = "push-to-talk", min_hold_ms: int = 0,
             cancel: str | None = "escape") -> tuple[X11HotkeyListener, Recorder]:
        rec = Recorder()
        listener = X11HotkeyListener(parse_hotkey(trigger), HotkeyGesture(mode, min_hold_ms), rec,
                                     cancel=parse_hotkey(cancel) if cancel else None)
        listener.start()
        started.append(listener)
        return listener, rec

    yield make
    for listener in reversed(started):
        listener.stop()


def hold(desktop: VirtualDesktop, keys: str, seconds: float = HOLD_S) -> None:
    desktop.xdotool("keydown", keys)
    time.sleep(seconds)
    desktop.xdotool("keyup", keys)


def test_push_to_talk_sends_start_and_stop_exactly_once(desktop: VirtualDesktop, listen) -> None:
    window = desktop.open_target("ptt")
    listener, rec = listen()
    assert listener.backend == "x11"
    desktop.xdotool("keydown", "ctrl+shift+space")
    assert rec.wait_for(1) == ["start"]
    time.sleep(HOLD_S)
    desktop.xdotool("keyup", "ctrl+shift+space")
    assert rec.wait_for(2) == ["start", "stop"]
    assert rec.settled() == ["start", "stop"]
    assert window.text() == ""  # the grabbed keys never reached the focused window


def test_two_dictations_in_a_row(desktop: VirtualDesktop, listen) -> None:
    _listener, rec = listen()
    hold(desktop, "ctrl+shift+space", 0.3)
    hold(desktop, "ctrl+shift+space", 0.3)
    assert rec.wait_for(4) == ["start", "stop", "start", "stop"]
    assert rec.settled() == ["start", "stop", "start", "stop"]


def test_grabbed_hotkey_does_not_type_into_the_window(desktop: VirtualDesktop, listen) -> None:
    window = desktop.open_target("leak")
    _listener, rec = listen("shift+z")
    hold(desktop, "shift+z")
    desktop.xdotool("type", "ok")
    assert window.wait_for_text("ok") == "ok"  # no "Z" from the hotkey, nor from its auto-repeat
    assert rec.settled() == ["start", "stop"]


def test_short_tap_cancels(desktop: VirtualDesktop, listen) -> None:
    _listener, rec = listen(min_hold_ms=400)
    desktop.xdotool("key", "ctrl+shift+space")
    assert rec.wait_for(2) == ["start", "cancel"]


def test_cancel_key_while_holding(desktop: VirtualDesktop, listen) -> None:
    _listener, rec = listen()
    desktop.xdotool("keydown", "ctrl+shift+space")
    assert rec.wait_for(1) == ["start"]
    desktop.xdotool("key", "Escape")
    assert rec.wait_for(2) == ["start", "cancel"]
    desktop.xdotool("keyup", "ctrl+shift+space")
    assert rec.settled() == ["start", "cancel"]


def test_toggle_mode(desktop: VirtualDesktop, listen) -> None:
    _listener, rec = listen(mode="toggle")
    hold(desktop, "ctrl+shift+space")  # auto-repeat while held must not toggle again
    assert rec.settled() == ["start"]
    desktop.xdotool("key", "ctrl+shift+space")
    assert rec.wait_for(2) == ["start", "stop"]
    assert rec.settled() == ["start", "stop"]


def test_toggle_cancel_key_is_grabbed_only_while_dictating(desktop: VirtualDesktop, listen) -> None:
    _listener, rec = listen(mode="toggle")
    desktop.xdotool("key", "Escape")  # nothing going on: not ours
    desktop.xdotool("key", "ctrl+shift+space")
    assert rec.wait_for(1) == ["start"]
    desktop.xdotool("key", "Escape")
    assert rec.wait_for(2) == ["start", "cancel"]
    # Escape is released again: another program can now grab it
    _other, other_rec = listen("escape", mode="toggle", cancel=None)
    desktop.xdotool("key", "Escape")
    assert other_rec.wait_for(1) == ["start"]
    assert rec.settled() == ["start", "cancel"]


def test_works_with_num_lock_and_caps_lock_on(desktop: VirtualDesktop, listen) -> None:
    _listener, rec = listen()
    desktop.xdotool("key", "Num_Lock", "Caps_Lock")
    try:
        hold(desktop, "ctrl+shift+space", 0.2)
        assert rec.wait_for(2) == ["start", "stop"]
    finally:
        desktop.xdotool("key", "Num_Lock", "Caps_Lock")


def test_hotkey_taken_by_another_program_is_reported(desktop: VirtualDesktop, listen) -> None:
    listen("ctrl+alt+f7")
    with pytest.raises(HotkeyError, match="already taken"):
        listen("ctrl+alt+f7")


def test_stop_releases_the_grab(desktop: VirtualDesktop, listen) -> None:
    first, _rec = listen("super+f8")
    first.stop()
    first.stop()  # twice is harmless
    _second, rec = listen("super+f8")
    desktop.xdotool("key", "super+F8")
    assert rec.wait_for(2) == ["start", "stop"]
