"""Key combinations moved to the desktop layer (onevox.desktop.keys), which the injection stage shares
without importing the hotkey package; these names stay importable from here."""

from __future__ import annotations

from onevox.desktop.keys import (
    KEY_ALIASES,
    KEYS,
    MODIFIER_ALIASES,
    MODIFIER_KEYS,
    MODIFIER_ORDER,
    Hotkey,
    KeyName,
    parse_hotkey,
)

__all__ = ["KEYS", "KEY_ALIASES", "MODIFIER_ALIASES", "MODIFIER_KEYS", "MODIFIER_ORDER", "Hotkey", "KeyName",
           "parse_hotkey"]
