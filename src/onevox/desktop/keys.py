"""Key combinations such as "ctrl+shift+space": parsing, and the names each backend knows a key by (the
hotkey listeners and the injection stage share them, so they live in the desktop layer).

A combination is any number of modifiers (ctrl/control, shift, alt, super/win/meta) plus exactly one other
key, joined by "+", case-insensitive. The same parser reads the paste keys of the injection stage.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from onevox.errors import HotkeyError

# canonical modifier -> the names a user may write for it
MODIFIER_ALIASES: dict[str, str] = {
    "ctrl": "ctrl", "control": "ctrl",
    "shift": "shift",
    "alt": "alt",
    "super": "super", "win": "super", "meta": "super",
}
MODIFIER_ORDER = ("ctrl", "shift", "alt", "super")

# per modifier: (X keysym name of the left key, evdev key codes of both keys)
MODIFIER_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ctrl": ("Control_L", ("KEY_LEFTCTRL", "KEY_RIGHTCTRL")),
    "shift": ("Shift_L", ("KEY_LEFTSHIFT", "KEY_RIGHTSHIFT")),
    "alt": ("Alt_L", ("KEY_LEFTALT", "KEY_RIGHTALT")),
    "super": ("Super_L", ("KEY_LEFTMETA", "KEY_RIGHTMETA")),
}


@dataclass(frozen=True)
class KeyName:
    x_keysym: str  # X11 keysym name, as XStringToKeysym knows it
    evdev: str  # Linux input event code name (evdev.ecodes)


def _build_keys() -> dict[str, KeyName]:
    keys = {c: KeyName(c, f"KEY_{c.upper()}") for c in string.ascii_lowercase + string.digits}
    keys.update({f"f{n}": KeyName(f"F{n}", f"KEY_F{n}") for n in range(1, 25)})
    named = {
        "space": ("space", "KEY_SPACE"), "enter": ("Return", "KEY_ENTER"), "tab": ("Tab", "KEY_TAB"),
        "escape": ("Escape", "KEY_ESC"), "backspace": ("BackSpace", "KEY_BACKSPACE"),
        "delete": ("Delete", "KEY_DELETE"), "insert": ("Insert", "KEY_INSERT"), "home": ("Home", "KEY_HOME"),
        "end": ("End", "KEY_END"), "pageup": ("Prior", "KEY_PAGEUP"), "pagedown": ("Next", "KEY_PAGEDOWN"),
        "up": ("Up", "KEY_UP"), "down": ("Down", "KEY_DOWN"), "left": ("Left", "KEY_LEFT"),
        "right": ("Right", "KEY_RIGHT"), "print": ("Print", "KEY_SYSRQ"), "pause": ("Pause", "KEY_PAUSE"),
        "scrolllock": ("Scroll_Lock", "KEY_SCROLLLOCK"), "capslock": ("Caps_Lock", "KEY_CAPSLOCK"),
        "menu": ("Menu", "KEY_COMPOSE"), "minus": ("minus", "KEY_MINUS"), "equal": ("equal", "KEY_EQUAL"),
        "comma": ("comma", "KEY_COMMA"), "period": ("period", "KEY_DOT"), "slash": ("slash", "KEY_SLASH"),
        "backslash": ("backslash", "KEY_BACKSLASH"), "semicolon": ("semicolon", "KEY_SEMICOLON"),
        "apostrophe": ("apostrophe", "KEY_APOSTROPHE"), "grave": ("grave", "KEY_GRAVE"),
        "bracketleft": ("bracketleft", "KEY_LEFTBRACE"), "bracketright": ("bracketright", "KEY_RIGHTBRACE"),
    }
    keys.update({name: KeyName(x, ev) for name, (x, ev) in named.items()})
    return keys


KEYS: dict[str, KeyName] = _build_keys()

KEY_ALIASES: dict[str, str] = {
    "esc": "escape", "return": "enter", "del": "delete", "ins": "insert", "pgup": "pageup",
    "page_up": "pageup", "pgdn": "pagedown", "page_down": "pagedown", "printscreen": "print",
    "prtsc": "print", "-": "minus", "=": "equal", ",": "comma", ".": "period", "/": "slash",
    "\\": "backslash", ";": "semicolon", "'": "apostrophe", "`": "grave", "[": "bracketleft",
    "]": "bracketright",
}


@dataclass(frozen=True)
class Hotkey:
    modifiers: frozenset[str]  # canonical names from MODIFIER_ORDER
    key: str  # canonical name, a key of KEYS

    def __str__(self) -> str:
        mods = [m for m in MODIFIER_ORDER if m in self.modifiers]
        return "+".join([*mods, self.key])

    @property
    def names(self) -> KeyName:
        return KEYS[self.key]


def parse_hotkey(spec: str) -> Hotkey:
    """Parse "ctrl+shift+space" (any case, spaces around "+" allowed); HotkeyError says what is wrong."""
    if not spec or not spec.strip():
        raise HotkeyError("empty hotkey: write modifiers and one key joined by '+', e.g. ctrl+shift+space")
    modifiers: set[str] = set()
    key: str | None = None
    for raw in spec.split("+"):
        part = raw.strip().lower()
        if not part:
            raise HotkeyError(f"hotkey {spec!r}: empty key name between '+' signs")
        if part in MODIFIER_ALIASES:
            modifier = MODIFIER_ALIASES[part]
            if modifier in modifiers:
                raise HotkeyError(f"hotkey {spec!r}: modifier {modifier!r} appears twice")
            modifiers.add(modifier)
            continue
        name = KEY_ALIASES.get(part, part)
        if name not in KEYS:
            raise HotkeyError(f"hotkey {spec!r}: unknown key {raw.strip()!r}; use a letter, a digit, f1-f24, "
                              f"a modifier ({', '.join(MODIFIER_ALIASES)}) or one of: {_named_keys()}")
        if key is not None:
            raise HotkeyError(f"hotkey {spec!r}: two non-modifier keys ({key!r} and {name!r}); "
                              "a hotkey has exactly one")
        key = name
    if key is None:
        raise HotkeyError(f"hotkey {spec!r}: only modifiers; add one key, e.g. {spec.strip()}+space")
    return Hotkey(frozenset(modifiers), key)


def _named_keys() -> str:
    return ", ".join(k for k in KEYS if len(k) > 1 and not (k[0] == "f" and k[1:].isdigit()))
