"""The paste method's clipboard bookkeeping with an in-memory clipboard and key recorder (test doubles).
The real clipboards and keys are exercised on Xvfb in test_x11_injection.py."""

from __future__ import annotations

import pytest

from onevox.config import InjectionConfig
from onevox.errors import InjectionError
from onevox.inject.clipboard import NOT_TEXT
from onevox.inject.paste import PasteInjector


class MemoryClipboard:
    name = "memory"
    reports_fetch = False

    def __init__(self, text: str | None = None) -> None:
        self.text = text
        self.reads = 0
        self.cleared = False

    def read(self) -> str | None:
        self.reads += 1
        return self.text

    def write(self, text: str) -> None:
        self.text = text

    def clear(self) -> None:
        self.text = None
        self.cleared = True

    def wait_pasted(self, timeout: float) -> float | None:
        return None


class RecordingBackend:
    name = "memory"
    broken = False

    def __init__(self, clipboard: MemoryClipboard, window_class: str = "gedit Gedit") -> None:
        self.clipboard = clipboard
        self.klass = window_class
        self.pressed: list[tuple[str, str | None]] = []  # (keys, clipboard text when pressed)

    def clipboard_for(self, text: str) -> MemoryClipboard:
        return self.clipboard

    def press(self, combo) -> None:
        self.pressed.append((str(combo), self.clipboard.text))

    def window_class(self) -> str:
        return self.klass

    def close(self) -> None:
        pass


def make(clip: MemoryClipboard, window_class: str = "gedit Gedit",
         **cfg) -> tuple[PasteInjector, RecordingBackend]:
    backend = RecordingBackend(clip, window_class)
    cfg.setdefault("restore_delay_ms", 0)
    return PasteInjector(InjectionConfig(**cfg), session="x11", backend=backend), backend


def test_pastes_then_restores_the_previous_text() -> None:
    clip = MemoryClipboard("the user's copy")
    injector, backend = make(clip)
    injector.inject("dictated")
    assert backend.pressed == [("ctrl+v", "dictated")]
    assert injector.wait_restored(5.0)
    assert clip.text == "the user's copy"


def test_terminal_gets_terminal_keys() -> None:
    injector, backend = make(MemoryClipboard(), window_class="gnome-terminal-server Gnome-terminal")
    injector.inject("ls")
    assert backend.pressed[0][0] == "ctrl+shift+v"
    assert injector.last_keys == "ctrl+shift+v"


@pytest.mark.parametrize("klass", ["kitty kitty", "Alacritty Alacritty", "xterm XTerm", "foot foot"])
def test_default_terminal_classes(klass: str) -> None:
    injector, backend = make(MemoryClipboard(), window_class=klass)
    injector.inject("x")
    assert backend.pressed[0][0] == "ctrl+shift+v"


def test_custom_keys_and_classes() -> None:
    injector, backend = make(MemoryClipboard(), window_class="emacs Emacs", paste_keys="shift+insert",
                             terminal_classes=["emacs"], terminal_paste_keys="ctrl+y")
    injector.inject("x")
    assert backend.pressed[0][0] == "ctrl+y"


def test_empty_clipboard_is_emptied_again() -> None:
    clip = MemoryClipboard(None)
    injector, _backend = make(clip)
    injector.inject("dictated")
    assert injector.wait_restored(5.0)
    assert clip.text is None and clip.cleared


def test_a_new_copy_by_the_user_is_kept() -> None:
    clip = MemoryClipboard("old")
    injector, _backend = make(clip, restore_delay_ms=300)
    injector.inject("dictated")
    clip.text = "copied meanwhile"
    assert injector.wait_restored(5.0)
    assert clip.text == "copied meanwhile"


def test_second_paste_before_restore_keeps_the_original() -> None:
    clip = MemoryClipboard("original")
    injector, backend = make(clip, restore_delay_ms=400)
    injector.inject("first ")
    injector.inject("second ")
    assert [text for _keys, text in backend.pressed] == ["first ", "second "]
    assert clip.reads == 1  # the clipboard was read once, before the first paste
    assert injector.wait_restored(5.0)
    assert clip.text == "original"


def test_restore_off_leaves_the_text_and_never_reads() -> None:
    clip = MemoryClipboard("old")
    injector, _backend = make(clip, restore_clipboard=False)
    injector.inject("dictated")
    assert injector.wait_restored(1.0)
    assert clip.text == "dictated" and clip.reads == 0


def test_empty_text_touches_nothing() -> None:
    clip = MemoryClipboard("old")
    injector, backend = make(clip)
    injector.inject("")
    assert backend.pressed == [] and clip.reads == 0


def test_clipboard_holding_an_image_is_protected_in_a_chain() -> None:
    clip = MemoryClipboard(NOT_TEXT)
    backend = RecordingBackend(clip)
    injector = PasteInjector(InjectionConfig(), session="x11", backend=backend, protect_clipboard=True)
    with pytest.raises(InjectionError, match="something other than text"):
        injector.inject("dictated")
    assert backend.pressed == [] and clip.text is NOT_TEXT


def test_explicit_paste_over_an_image_pastes_and_does_not_restore() -> None:
    clip = MemoryClipboard(NOT_TEXT)
    injector, backend = make(clip)
    injector.inject("dictated")
    assert backend.pressed == [("ctrl+v", "dictated")]
    assert injector.wait_restored(1.0)
    assert clip.text == "dictated"
