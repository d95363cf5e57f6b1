"""The edit commands' real parts on Xvfb and a Tk window: keys through XTEST, the RECORD watch for the
user's typing, and the editor taking a dictation back after paste and after typing, or refusing."""

from __future__ import annotations

import time

import pytest

from onevox.config import InjectionConfig
from onevox.desktop.keys import parse_hotkey
from onevox.inject import create_injector
from onevox.inject.activity import X11ActivityWatcher
from onevox.inject.edits import EditRefused, create_editor
from onevox.inject.keys import create_key_sender
from tests.support.desktop import TargetWindow, VirtualDesktop, wait_until

pytestmark = pytest.mark.e2e

HOTKEY = "ctrl+shift+space"


def _settle(watcher: X11ActivityWatcher, expected: int) -> None:
    """RECORD reports from its own thread: wait until it has counted what the test did."""
    wait_until(lambda: watcher.user_presses() == expected, 5.0, f"{expected} presses counted")
    time.sleep(0.2)
    assert watcher.user_presses() == expected


def test_keys_reach_the_window(window: TargetWindow) -> None:
    keys = create_key_sender(InjectionConfig(), "x11")
    window.desktop.xdotool("type", "abcd")
    window.wait_for_text("abcd")
    keys.press("backspace", 3)
    window.wait_for_text("a")
    keys.press("enter")
    keys.press("tab")
    window.wait_for_text("a\n\t")


def test_watch_counts_the_users_keys_and_clicks_only(window: TargetWindow) -> None:
    watcher = X11ActivityWatcher([parse_hotkey(HOTKEY)])
    injector = create_injector(InjectionConfig(method="type"))
    try:
        assert watcher.unavailable_reason() is None
        with watcher.own_input():
            injector.inject("onevox typed this")
            window.desktop.xdotool("type", "and ran this")  # a tool onevox runs is onevox's too
        window.desktop.xdotool("keydown", HOTKEY)  # dictating the command is not typing
        window.desktop.xdotool("keyup", HOTKEY)
        window.desktop.xdotool("key", "shift")
        # the hotkey's modifiers let go first while its key still repeats: still the hotkey, not typing
        window.desktop.xdotool("keydown", HOTKEY)
        window.desktop.xdotool("keyup", "ctrl+shift")
        window.desktop.xdotool("keydown", "space")
        window.desktop.xdotool("keyup", "space")
        _settle(watcher, 0)
        window.desktop.xdotool("type", "xy")
        _settle(watcher, 2)
        window.desktop.xdotool("key", "ctrl+space")  # the hotkey's key with other modifiers counts
        _settle(watcher, 3)
        window.desktop.xdotool("click", "1")
        window.desktop.xdotool("click", "4")  # the wheel moves no cursor
        _settle(watcher, 4)
    finally:
        injector.close()
        watcher.close()


@pytest.mark.parametrize("method", ["paste", "type"])
def test_scratch_takes_back_exactly_the_last_dictation(window: TargetWindow, method: str) -> None:
    cfg = InjectionConfig(method=method)
    injector, editor = create_injector(cfg), create_editor(cfg, "x11", (parse_hotkey(HOTKEY),))
    try:
        for dictation, text in enumerate(["Keep this. ", "Grüße, 你好!\nTake this back. "]):
            with editor.own_input():
                injector.inject(text)
            editor.typed(dictation, text)
        window.wait_for_text("Keep this. Grüße, 你好!\nTake this back. ")
        assert f"({len(text)} characters)" in editor.scratch()
        window.wait_for_text("Keep this. ")
        with pytest.raises(EditRefused, match="already taken back"):
            editor.scratch()
        assert window.settled_text(0.3) == "Keep this. "
    finally:
        injector.close()
        editor.close()


def test_scratch_refuses_after_the_user_typed_or_moved_the_focus(desktop: VirtualDesktop,
                                                                window: TargetWindow) -> None:
    cfg = InjectionConfig(method="paste")
    injector, editor = create_injector(cfg), create_editor(cfg, "x11", (parse_hotkey(HOTKEY),))
    try:
        with editor.own_input():
            injector.inject("Dictated. ")
        editor.typed(1, "Dictated. ")
        desktop.xdotool("type", "mine")
        window.wait_for_text("Dictated. mine")
        wait_until(lambda: editor.watcher.user_presses() == 4, 5.0, "the user's keys counted")
        with pytest.raises(EditRefused, match="you pressed keys or clicked since"):
            editor.scratch()
        with editor.own_input():
            injector.inject("Again. ")
        editor.typed(2, "Again. ")
        window.wait_for_text("Dictated. mineAgain. ")
        other = desktop.open_target("other")
        other.focus()
        with pytest.raises(EditRefused, match="focus moved"):
            editor.scratch()
        assert window.settled_text(0.3) == "Dictated. mineAgain. " and other.text() == ""
    finally:
        injector.close()
        editor.close()


def test_a_lost_display_ends_the_watch_and_the_injection_goes_on(tmp_path) -> None:
    with VirtualDesktop.start(tmp_path) as desktop, desktop.activated():
        watcher = X11ActivityWatcher([parse_hotkey(HOTKEY)])
        assert watcher.unavailable_reason() is None
    # the X server is gone: what the watch brackets still runs, and the watch says it is over
    ran = []
    with watcher.own_input():
        ran.append(True)
    assert ran == [True]
    assert "broke" in (watcher.unavailable_reason() or ""), watcher.unavailable_reason()
    watcher.close()
