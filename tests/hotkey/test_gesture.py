from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onevox.errors import HotkeyError
from onevox.hotkey.gesture import HotkeyGesture


def test_push_to_talk_start_and_stop() -> None:
    g = HotkeyGesture("push-to-talk", min_hold_ms=150)
    assert g.key_down(10.0) == "start"
    assert g.active
    assert g.key_up(10.5) == "stop"
    assert not g.active


def test_push_to_talk_short_tap_cancels() -> None:
    g = HotkeyGesture("push-to-talk", min_hold_ms=150)
    assert g.key_down(10.0) == "start"
    assert g.key_up(10.1) == "cancel"


def test_push_to_talk_hold_exactly_min_hold_stops() -> None:
    g = HotkeyGesture("push-to-talk", min_hold_ms=150)
    g.key_down(1.0)
    assert g.key_up(1.15) == "stop"


def test_auto_repeat_presses_are_ignored() -> None:
    g = HotkeyGesture("push-to-talk", min_hold_ms=0)
    assert g.key_down(0.0) == "start"
    assert [g.key_down(0.5 + i * 0.03) for i in range(20)] == [None] * 20
    assert g.key_up(2.0) == "stop"
    assert g.key_up(2.1) is None  # a stray second release


def test_cancel_key_while_held_then_release_sends_nothing_more() -> None:
    g = HotkeyGesture("push-to-talk", min_hold_ms=0)
    g.key_down(0.0)
    assert g.cancel() == "cancel"
    assert g.key_up(1.0) is None
    assert g.cancel() is None


def test_toggle_each_press_toggles_and_releases_do_nothing() -> None:
    g = HotkeyGesture("toggle", min_hold_ms=150)
    assert g.key_down(0.0) == "start"
    assert g.key_down(0.3) is None  # auto-repeat while still held
    assert g.key_up(0.4) is None
    assert g.key_down(2.0) == "stop"
    assert g.key_up(2.01) is None
    assert g.key_down(3.0) == "start"


def test_toggle_cancel() -> None:
    g = HotkeyGesture("toggle", min_hold_ms=0)
    g.key_down(0.0)
    g.key_up(0.1)
    assert g.cancel() == "cancel"
    assert g.key_down(1.0) == "start"  # the next press starts a new dictation


def test_reset_forgets_state() -> None:
    g = HotkeyGesture("toggle", min_hold_ms=0)
    g.key_down(0.0)
    g.reset()
    assert not g.active and not g.held
    assert g.key_down(1.0) == "start"


def test_bad_mode_and_hold() -> None:
    with pytest.raises(HotkeyError, match="not one of"):
        HotkeyGesture("hold", 0)
    with pytest.raises(HotkeyError, match="min_hold_ms"):
        HotkeyGesture("toggle", -1)


actions = st.lists(st.sampled_from(["down", "up", "cancel"]), max_size=60)


@given(actions, st.sampled_from(["push-to-talk", "toggle"]))
def test_commands_always_alternate_start_and_end(seq: list[str], mode: str) -> None:
    """Whatever the key sequence, a start is always followed by exactly one stop/cancel before the next."""
    g = HotkeyGesture(mode, min_hold_ms=100)
    active = False
    for i, action in enumerate(seq):
        t = i * 0.07
        command = {"down": g.key_down, "up": g.key_up}.get(action, lambda _t: g.cancel())(t)
        if command == "start":
            assert not active
            active = True
        elif command in ("stop", "cancel"):
            assert active
            active = False
        else:
            assert command is None
        assert g.active == active
