"""Push-to-talk on X11 leaves the keyboard to the focused window while the key is held, so that live mode's
words reach it: checked on Xvfb with the key held through xdotool (a real X key event) and text typed by
the injector's XTEST keyboard meanwhile, with auto-repeat on and off. The modifier subsets the held key is
grabbed with are checked without X."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from onevox.config import InjectionConfig
from onevox.desktop.keys import parse_hotkey
from onevox.hotkey.gesture import HotkeyGesture
from onevox.hotkey.x11 import X11HotkeyListener, modifier_subsets
from onevox.inject.paste import PasteInjector
from onevox.inject.xkeyboard import XKeyboard
from tests.hotkey.recorder import Recorder
from tests.support.desktop import VirtualDesktop

REPEATING_S = 1.0  # longer than Xvfb's auto-repeat delay (660 ms): repeats are under way when text goes in
MASKS = {"shift": 1, "lock": 2, "ctrl": 4, "alt": 8, "numlock": 16, "super": 64}


def test_modifier_subsets_are_every_smaller_set_with_every_lock() -> None:
    locks = [0, 2, 16, 18]
    assert modifier_subsets(4 | 1, MASKS) == sorted(m | lk for m in (0, 1, 4) for lk in locks)
    assert modifier_subsets(0, MASKS) == []  # a bare key: nothing besides its own grab
    assert modifier_subsets(64, MASKS) == locks


@pytest.fixture
def held(desktop: VirtualDesktop) -> Iterator:
    """A push-to-talk listener and the injector's keyboard on the desktop."""
    started: list[X11HotkeyListener] = []
    keyboard = XKeyboard()

    def make(trigger: str) -> Recorder:
        rec = Recorder()
        listener = X11HotkeyListener(parse_hotkey(trigger), HotkeyGesture("push-to-talk", 0), rec,
                                     cancel=parse_hotkey("escape"))
        listener.start()
        started.append(listener)
        return rec

    yield keyboard, make
    for listener in reversed(started):
        listener.stop()
    keyboard.close()


@pytest.mark.e2e
@pytest.mark.parametrize("trigger", ["ctrl+shift+space", "F8"])
def test_text_typed_while_the_key_is_held_reaches_the_window(desktop: VirtualDesktop, held,
                                                              trigger: str) -> None:
    """Typed (as live mode does) with the hotkey held: it reaches the window and not the listener, the
    held ctrl+shift do not turn "a" into ctrl+a, a space goes in though space is the held key, repeats
    type nothing, and the release still stops the dictation."""
    keyboard, make = held
    window = desktop.open_target("held")
    rec = make(trigger)
    window.focus()
    desktop.xdotool("keydown", trigger)
    assert rec.wait_for(1) == ["start"]
    time.sleep(REPEATING_S)
    keyboard.type_text("a live ")
    window.wait_for_text("a live ")
    keyboard.type_text("wörd 向")
    window.wait_for_text("a live wörd 向")
    time.sleep(0.5)  # more repeats
    assert rec.settled() == ["start"]
    desktop.xdotool("keyup", trigger)
    assert rec.wait_for(2) == ["start", "stop"]
    assert window.settled_text() == "a live wörd 向"
    desktop.xdotool("keydown", trigger)  # the next dictation starts as before
    time.sleep(0.2)
    desktop.xdotool("keyup", trigger)
    assert rec.wait_for(4) == ["start", "stop", "start", "stop"]


@pytest.mark.e2e
def test_pasted_while_the_key_is_held(desktop: VirtualDesktop, held) -> None:
    """The paste method's ctrl+v with ctrl+shift held by the user: pasted (not ctrl+shift+v), twice."""
    _, make = held
    window = desktop.open_target("paste-held")
    rec = make("ctrl+shift+space")
    injector = PasteInjector(InjectionConfig(method="paste"))
    try:
        window.focus()
        desktop.xdotool("keydown", "ctrl+shift+space")
        assert rec.wait_for(1) == ["start"]
        time.sleep(REPEATING_S)
        injector.inject("pasted ")
        window.wait_for_text("pasted ")
        injector.inject("wörds")
        window.wait_for_text("pasted wörds")
        desktop.xdotool("keyup", "ctrl+shift+space")
        assert rec.wait_for(2) == ["start", "stop"]
        assert window.settled_text() == "pasted wörds"
    finally:
        injector.close()


@pytest.mark.e2e
def test_modifier_let_go_first_and_focus_moved_during_the_hold(desktop: VirtualDesktop, held) -> None:
    """The user lets go of ctrl before space and clicks into another window while still holding space:
    repeats of space (now with shift only) type nothing, the text goes where the focus is, and the
    release of space ends the dictation."""
    keyboard, make = held
    first, second = desktop.open_target("first"), desktop.open_target("second")
    rec = make("ctrl+shift+space")
    first.focus()
    desktop.xdotool("keydown", "ctrl+shift+space")
    assert rec.wait_for(1) == ["start"]
    keyboard.type_text("one ")
    first.wait_for_text("one ")
    desktop.xdotool("keyup", "ctrl")
    second.focus()
    time.sleep(REPEATING_S)
    keyboard.type_text("two")
    second.wait_for_text("two")
    assert rec.settled() == ["start"]
    desktop.xdotool("keyup", "shift+space")
    assert rec.wait_for(2) == ["start", "stop"]
    assert (first.settled_text(), second.settled_text()) == ("one ", "two")


@pytest.mark.e2e
def test_cancel_key_while_held_without_the_grab(desktop: VirtualDesktop, held) -> None:
    keyboard, make = held
    window = desktop.open_target("cancel")
    rec = make("ctrl+shift+space")
    window.focus()
    desktop.xdotool("keydown", "ctrl+shift+space")
    assert rec.wait_for(1) == ["start"]
    time.sleep(REPEATING_S)
    desktop.xdotool("key", "Escape")
    assert rec.wait_for(2) == ["start", "cancel"]
    desktop.xdotool("keyup", "ctrl+shift+space")
    assert rec.settled() == ["start", "cancel"]
    keyboard.type_text("after")
    window.wait_for_text("after")


@pytest.mark.e2e
def test_toggle_text_ready_before_the_stopping_press_is_let_go(desktop: VirtualDesktop, held) -> None:
    """Toggle mode: a short dictation's text can be typed while the press that stopped it is still down;
    it reaches the window, and the next press starts again."""
    keyboard, _ = held
    window = desktop.open_target("toggle")
    rec = Recorder()
    listener = X11HotkeyListener(parse_hotkey("ctrl+shift+space"), HotkeyGesture("toggle", 0), rec)
    listener.start()
    try:
        window.focus()
        desktop.xdotool("key", "ctrl+shift+space")
        assert rec.wait_for(1) == ["start"]
        desktop.xdotool("keydown", "ctrl+shift+space")
        assert rec.wait_for(2) == ["start", "stop"]
        keyboard.type_text("the text")
        window.wait_for_text("the text")
        desktop.xdotool("keyup", "ctrl+shift+space")
        desktop.xdotool("key", "ctrl+shift+space")
        assert rec.wait_for(3) == ["start", "stop", "start"]
    finally:
        listener.stop()
