"""The editor's decisions ("scratch that" deletes only what onevox typed, and only when that is certain), on
doubles of the key sender and the typing watch. The real ones are tested on Xvfb in test_edits_x11.py."""

from __future__ import annotations

import pytest

from onevox.errors import InjectionError
from onevox.inject.edits import EditOptions, Editor, EditRefused, uncertain_length
from tests.inject.edit_doubles import FakeKeys, FakeWatcher


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def parts() -> tuple[Editor, FakeKeys, FakeWatcher, Clock]:
    watcher = FakeWatcher()
    keys = FakeKeys(watcher)
    clock = Clock()
    return Editor(keys, watcher, EditOptions(max_age_s=60.0), clock=clock), keys, watcher, clock


def test_scratch_sends_one_backspace_per_character_once(parts) -> None:
    editor, keys, _watcher, _clock = parts
    editor.typed(1, "Hello there.\nNew line ")
    assert editor.scratch() == "removed the previous dictation (22 characters)"
    assert keys.pressed == [("backspace", 22)]
    with pytest.raises(EditRefused, match="already taken back"):
        editor.scratch()
    assert keys.pressed == [("backspace", 22)]


def test_live_pieces_of_one_dictation_are_taken_back_together(parts) -> None:
    editor, keys, _watcher, _clock = parts
    editor.typed(1, "Older. ")
    editor.typed(2, "Hello")
    editor.typed(2, " world. ")
    editor.scratch()
    assert keys.pressed == [("backspace", len("Hello world. "))]


@pytest.mark.parametrize(("change", "reason"), [
    (lambda w, c: setattr(w, "presses", w.presses + 2), r"you pressed keys or clicked since \(2 times\)"),
    (lambda w, c: setattr(w, "window", (43,)), "focus moved"),
    (lambda w, c: setattr(c, "now", c.now + 61), "typed 61 s ago"),
    (lambda w, c: setattr(w, "reason", "Wayland lets no program see"), "cannot tell whether you typed since"),
])
def test_scratch_refuses_when_it_may_hit_other_text(parts, change, reason: str) -> None:
    editor, keys, watcher, clock = parts
    editor.typed(1, "keep me ")
    change(watcher, clock)
    with pytest.raises(EditRefused, match=reason):
        editor.scratch()
    assert keys.pressed == []


def test_nothing_typed_failed_delivery_and_a_pressed_key_refuse(parts) -> None:
    editor, keys, _watcher, _clock = parts
    with pytest.raises(EditRefused, match="typed nothing since it started"):
        editor.scratch()
    editor.typed(1, "first ")
    editor.forget("the last dictation was not delivered (paste failed)")
    with pytest.raises(EditRefused, match="not delivered"):
        editor.scratch()
    editor.typed(2, "second ")
    assert editor.press("enter") == "pressed enter"
    with pytest.raises(EditRefused, match=r"a key was pressed after it \(enter\)"):
        editor.scratch()
    assert keys.pressed == [("enter", 1)]


def test_a_failed_key_press_is_an_injection_error_and_forgets(parts) -> None:
    editor, keys, _watcher, _clock = parts
    editor.typed(1, "text ")
    keys.error = "wtype failed"
    with pytest.raises(InjectionError):
        editor.press("tab")
    keys.error = ""
    with pytest.raises(EditRefused):
        editor.scratch()


def test_text_whose_length_a_window_may_count_otherwise_is_not_deleted(parts) -> None:
    editor, keys, _watcher, _clock = parts
    editor.typed(1, "Ruler 📏 ")
    with pytest.raises(EditRefused, match="U\\+1F4CF"):
        editor.scratch()
    assert keys.pressed == []


def test_uncertain_length() -> None:
    assert uncertain_length("Grüße, 你好!\n\tok") == ""  # precomposed, BMP, newline and tab are one key each
    assert uncertain_length("e\u0301") == "U+0301"
    assert uncertain_length("👩\u200d💻") == "U+200D U+1F469 U+1F4BB"
    assert uncertain_length("a\x07") == "U+0007"
