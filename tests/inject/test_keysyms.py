from __future__ import annotations

import pytest

from onevox.inject.window import is_terminal
from onevox.inject.xkeyboard import char_keysym


@pytest.mark.parametrize(("ch", "keysym"), [
    ("a", 0x61), ("Z", 0x5A), (" ", 0x20), ("~", 0x7E),
    ("é", 0xE9), ("Ü", 0xDC), ("\u00a0", 0xA0),
    ("—", 0x1002014), ("€", 0x10020AC), ("🙂", 0x101F642), ("一", 0x1004E00),
    ("\n", 0xFF0D), ("\t", 0xFF09),
])
def test_char_keysym(ch: str, keysym: int) -> None:
    assert char_keysym(ch) == keysym


@pytest.mark.parametrize("ch", ["\x00", "\x07", "\r", "\x1b", "\x7f", "\x85"])
def test_control_characters_are_not_typed(ch: str) -> None:
    assert char_keysym(ch) is None


@pytest.mark.parametrize(("klass", "expected"), [
    ("xterm XTerm", True), ("gnome-terminal-server Gnome-terminal", True), ("KITTY kitty", True),
    ("firefox Firefox", False), ("", False),
])
def test_is_terminal(klass: str, expected: bool) -> None:
    assert is_terminal(klass, ["term", "kitty", ""]) is expected
