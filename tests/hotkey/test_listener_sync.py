"""Every listener's sync(recording): a toggle gesture follows dictations started or ended elsewhere (IPC, max
duration, an error); push-to-talk ignores them. Neither listener is started: sync needs no keyboard."""

from __future__ import annotations

import pytest

from onevox.desktop.keys import parse_hotkey
from onevox.hotkey.base import HotkeyListener
from onevox.hotkey.evdev import EvdevHotkeyListener
from onevox.hotkey.gesture import HotkeyGesture
from onevox.hotkey.portal import PortalHotkeyListener
from onevox.hotkey.x11 import X11HotkeyListener


def make(kind: str, gesture: HotkeyGesture) -> HotkeyListener:
    trigger, cancel = parse_hotkey("ctrl+alt+d"), parse_hotkey("escape")
    if kind == "x11":
        return X11HotkeyListener(trigger, gesture, print, cancel=cancel)
    if kind == "portal":
        return PortalHotkeyListener(trigger, gesture, print)
    return EvdevHotkeyListener(trigger, gesture, print, cancel=cancel, find_devices=list)


@pytest.mark.parametrize("kind", ["x11", "portal", "evdev"])
def test_toggle_follows_the_daemon(kind: str) -> None:
    gesture = HotkeyGesture("toggle", 0)
    listener = make(kind, gesture)
    listener.sync(True)  # IPC started a dictation: the next press stops it
    assert gesture.key_down(1.0) == "stop"
    gesture.key_up(1.1)
    listener.sync(True)
    listener.sync(False)  # max duration ended it: the next press starts a new one
    assert gesture.key_down(2.0) == "start"


@pytest.mark.parametrize("kind", ["x11", "portal", "evdev"])
def test_push_to_talk_ignores_sync(kind: str) -> None:
    gesture = HotkeyGesture("push-to-talk", 0)
    listener = make(kind, gesture)
    listener.sync(True)
    assert not gesture.active
    assert gesture.key_down(1.0) == "start"  # a press still starts: the key held is the dictation
    listener.sync(False)
    assert gesture.active
    assert gesture.key_up(1.5) == "stop"
