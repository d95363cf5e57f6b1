from __future__ import annotations

import pytest

from onevox.desktop.keys import KEYS, Hotkey, parse_hotkey
from onevox.errors import HotkeyError


@pytest.mark.parametrize(
    ("spec", "modifiers", "key"),
    [
        ("ctrl+shift+space", {"ctrl", "shift"}, "space"),
        ("Control+Alt+D", {"ctrl", "alt"}, "d"),
        ("super+f12", {"super"}, "f12"),
        ("win+1", {"super"}, "1"),
        ("meta+F24", {"super"}, "f24"),
        (" ctrl + shift + v ", {"ctrl", "shift"}, "v"),
        ("escape", set(), "escape"),
        ("esc", set(), "escape"),
        ("ctrl+Return", {"ctrl"}, "enter"),
        ("alt+pgup", {"alt"}, "pageup"),
        ("ctrl+-", {"ctrl"}, "minus"),
        ("SHIFT+Pause", {"shift"}, "pause"),
    ],
)
def test_parses_modifiers_and_key(spec: str, modifiers: set[str], key: str) -> None:
    assert parse_hotkey(spec) == Hotkey(frozenset(modifiers), key)


def test_canonical_text_round_trips() -> None:
    hotkey = parse_hotkey("Shift+Super+control+Space")
    assert str(hotkey) == "ctrl+shift+super+space"
    assert parse_hotkey(str(hotkey)) == hotkey


def test_backend_names() -> None:
    assert parse_hotkey("ctrl+shift+space").names.x_keysym == "space"
    assert parse_hotkey("ctrl+enter").names.x_keysym == "Return"
    assert parse_hotkey("f13").names.evdev == "KEY_F13"
    assert parse_hotkey("a").names.evdev == "KEY_A"


def test_every_key_has_real_backend_names() -> None:
    from evdev import ecodes
    from Xlib import XK

    for name, key in KEYS.items():
        assert XK.string_to_keysym(key.x_keysym) != 0, name
        assert key.evdev in ecodes.ecodes, name


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty hotkey"),
        ("   ", "empty hotkey"),
        ("ctrl+", "empty key name"),
        ("ctrl++v", "empty key name"),
        ("ctrl+shift+banana", "unknown key 'banana'"),
        ("ctrl+a+b", "two non-modifier keys"),
        ("ctrl+control+v", "'ctrl' appears twice"),
        ("win+super+x", "'super' appears twice"),
        ("ctrl+shift", "only modifiers"),
        ("f25", "unknown key"),
    ],
)
def test_bad_specs_raise_clear_errors(spec: str, message: str) -> None:
    with pytest.raises(HotkeyError, match=message.replace("+", r"\+")):
        parse_hotkey(spec)
