"""The evdev backend with fake input devices (test doubles): /dev/input does not exist on this machine, so
the real kernel devices cannot be opened here. The event objects are the evdev library's own."""

from __future__ import annotations

import os
import queue
import threading

import pytest
from evdev import InputEvent, ecodes

from onevox.desktop.keys import parse_hotkey
from onevox.errors import HotkeyError
from onevox.hotkey import evdev as evdev_backend
from onevox.hotkey.evdev import EvdevHotkeyListener, EvdevTranslator, find_keyboards
from onevox.hotkey.gesture import HotkeyGesture
from tests.hotkey.recorder import Recorder

DOWN, UP, REPEAT = 1, 0, 2


def translator(spec: str = "ctrl+shift+space", cancel: str | None = "escape") -> EvdevTranslator:
    return EvdevTranslator(parse_hotkey(spec), parse_hotkey(cancel) if cancel else None)


def feed(t: EvdevTranslator, *events: tuple[str, int]) -> list[str | None]:
    return [t.feed(ecodes.ecodes[name], value) for name, value in events]


def test_combo_down_and_up() -> None:
    t = translator()
    out = feed(t, ("KEY_LEFTCTRL", DOWN), ("KEY_RIGHTSHIFT", DOWN), ("KEY_SPACE", DOWN),
               ("KEY_SPACE", REPEAT), ("KEY_SPACE", REPEAT), ("KEY_LEFTCTRL", UP), ("KEY_SPACE", UP))
    assert out == [None, None, "down", None, None, None, "up"]


def test_wrong_or_extra_modifiers_do_not_trigger() -> None:
    t = translator()
    assert feed(t, ("KEY_LEFTCTRL", DOWN), ("KEY_SPACE", DOWN), ("KEY_SPACE", UP)) == [None, None, None]
    t = translator()
    out = feed(t, ("KEY_LEFTCTRL", DOWN), ("KEY_LEFTSHIFT", DOWN), ("KEY_LEFTALT", DOWN), ("KEY_SPACE", DOWN))
    assert out[-1] is None


def test_modifier_released_on_one_side_only_still_counts_from_the_other() -> None:
    t = translator("ctrl+space", cancel=None)
    out = feed(t, ("KEY_LEFTCTRL", DOWN), ("KEY_RIGHTCTRL", DOWN), ("KEY_LEFTCTRL", UP), ("KEY_SPACE", DOWN))
    assert out[-1] == "down"


def test_cancel_key() -> None:
    t = translator()
    assert feed(t, ("KEY_ESC", DOWN), ("KEY_ESC", REPEAT), ("KEY_ESC", UP)) == ["cancel", None, None]


def test_release_without_press_is_ignored() -> None:
    assert feed(translator(), ("KEY_SPACE", UP)) == [None]


class FakeKeyboard:
    """Stands in for evdev.InputDevice: a pipe makes select() see it, read() hands out queued events."""

    def __init__(self, path: str = "/dev/input/event9") -> None:
        self.path = path
        self._r, self._w = os.pipe()
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self.closed = False
        self.unplugged = False

    def fileno(self) -> int:
        return self._r

    def send(self, *keys: tuple[str, int], t: float = 100.0) -> None:
        for i, (name, value) in enumerate(keys):
            sec = t + i * 0.01
            usec = int(sec % 1 * 1e6)
            self._events.put(InputEvent(int(sec), usec, ecodes.EV_KEY, ecodes.ecodes[name], value))
            self._events.put(InputEvent(int(sec), 0, ecodes.EV_SYN, ecodes.SYN_REPORT, 0))
        os.write(self._w, b"x")

    def unplug(self) -> None:
        self.unplugged = True
        os.write(self._w, b"x")

    def read(self):
        os.read(self._r, 4096)
        if self.unplugged:
            raise OSError(19, "No such device")
        events = []
        while not self._events.empty():
            events.append(self._events.get_nowait())
        return iter(events)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self._r)
            os.close(self._w)


def make_listener(devices: list[FakeKeyboard], mode: str = "push-to-talk", min_hold_ms: int = 0):
    rec = Recorder()
    listener = EvdevHotkeyListener(parse_hotkey("ctrl+shift+space"), HotkeyGesture(mode, min_hold_ms), rec,
                                   cancel=parse_hotkey("escape"), find_devices=lambda: list(devices))
    return listener, rec


def test_listener_push_to_talk_over_two_keyboards() -> None:
    kb1, kb2 = FakeKeyboard("/dev/input/event3"), FakeKeyboard("/dev/input/event4")
    listener, rec = make_listener([kb1, kb2])
    listener.start()
    try:
        assert listener.backend == "evdev"
        repeats = [("KEY_SPACE", REPEAT)] * 5
        kb1.send(("KEY_LEFTCTRL", DOWN), ("KEY_LEFTSHIFT", DOWN), ("KEY_SPACE", DOWN), *repeats)
        assert rec.wait_for(1) == ["start"]
        kb1.send(("KEY_SPACE", UP), ("KEY_LEFTSHIFT", UP), ("KEY_LEFTCTRL", UP), t=101.0)
        assert rec.wait_for(2) == ["start", "stop"]
        kb2.send(("KEY_RIGHTCTRL", DOWN), ("KEY_RIGHTSHIFT", DOWN), ("KEY_SPACE", DOWN), ("KEY_ESC", DOWN),
                 ("KEY_SPACE", UP), t=102.0)
        assert rec.wait_for(4) == ["start", "stop", "start", "cancel"]
    finally:
        listener.stop()
    assert kb1.closed and kb2.closed
    assert rec.commands == ["start", "stop", "start", "cancel"]


def test_min_hold_uses_event_timestamps() -> None:
    kb = FakeKeyboard()
    listener, rec = make_listener([kb], min_hold_ms=150)
    listener.start()
    try:
        kb.send(("KEY_LEFTCTRL", DOWN), ("KEY_LEFTSHIFT", DOWN), ("KEY_SPACE", DOWN), ("KEY_SPACE", UP))
        assert rec.wait_for(2) == ["start", "cancel"]  # 10 ms apart in event time
    finally:
        listener.stop()


def test_unplugged_keyboard_is_dropped_and_others_keep_working() -> None:
    kb1, kb2 = FakeKeyboard("/dev/input/event3"), FakeKeyboard("/dev/input/event4")
    listener, rec = make_listener([kb1, kb2], mode="toggle")
    listener.start()
    try:
        kb1.unplug()
        kb2.send(("KEY_LEFTCTRL", DOWN), ("KEY_LEFTSHIFT", DOWN), ("KEY_SPACE", DOWN))
        assert rec.wait_for(1) == ["start"]
        assert kb1.closed
    finally:
        listener.stop()


def test_a_failing_callback_does_not_stop_the_listener() -> None:
    kb = FakeKeyboard()
    seen: list[str] = []
    done = threading.Event()

    def callback(command: str) -> None:
        seen.append(command)
        if len(seen) == 1:
            raise RuntimeError("controller bug")
        done.set()

    listener = EvdevHotkeyListener(parse_hotkey("f9"), HotkeyGesture("toggle", 0), callback,
                                   find_devices=lambda: [kb])
    listener.start()
    try:
        kb.send(("KEY_F9", DOWN), ("KEY_F9", UP), ("KEY_F9", DOWN))
        assert done.wait(5.0)
        assert seen == ["start", "stop"]
    finally:
        listener.stop()


def test_find_keyboards_explains_missing_permission(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for n in range(2):
        (tmp_path / f"event{n}").touch()
    monkeypatch.setattr(evdev_backend, "INPUT_GLOB", str(tmp_path / "event*"))
    monkeypatch.setattr(evdev_backend, "readable_node", lambda node: False)  # as a user outside 'input'

    with pytest.raises(HotkeyError, match="'input' group"):
        find_keyboards(ecodes.KEY_SPACE)


def test_find_keyboards_without_devices(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(evdev_backend, "INPUT_GLOB", str(tmp_path / "event*"))
    with pytest.raises(HotkeyError, match="no keyboard"):
        find_keyboards(ecodes.KEY_SPACE)


def test_start_fails_clearly_when_no_keyboard_is_readable() -> None:
    def none_readable() -> list:
        raise HotkeyError("cannot read the keyboards in /dev/input")

    listener = EvdevHotkeyListener(parse_hotkey("f9"), HotkeyGesture("toggle", 0), print,
                                   find_devices=none_readable)
    with pytest.raises(HotkeyError, match="cannot read"):
        listener.start()
    listener.stop()  # safe after a failed start
