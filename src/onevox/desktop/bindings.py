"""How to bind the dictation key in each desktop that binds keys itself (sway, i3, Hyprland, river, GNOME,
KDE): what `onevox doctor` tells a user whose desktop gives onevox no global hotkey of its own."""

from __future__ import annotations

from typing import Any

from onevox.config import HotkeyConfig
from onevox.desktop.keys import MODIFIER_ORDER, parse_hotkey
from onevox.errors import HotkeyError

GNOME_PATH = "/org/gnome/settings-daemon/plugins/media-keys/custom-keybindings/onevox/"
GNOME_SCHEMA = "org.gnome.settings-daemon.plugins.media-keys"

# how each compositor writes the modifiers, in MODIFIER_ORDER (ctrl, shift, alt, super)
_SWAY_MODS = {"ctrl": "Ctrl", "shift": "Shift", "alt": "Mod1", "super": "Mod4"}
_HYPR_MODS = {"ctrl": "CTRL", "shift": "SHIFT", "alt": "ALT", "super": "SUPER"}
_RIVER_MODS = {"ctrl": "Control", "shift": "Shift", "alt": "Mod1", "super": "Mod4"}
_GNOME_MODS = {"ctrl": "<Control>", "shift": "<Shift>", "alt": "<Alt>", "super": "<Super>"}


def _combo(trigger: str) -> tuple[list[str], str]:
    """The trigger's modifiers (canonical, in order) and its key's XKB keysym name, which every compositor
    reads key names as. A trigger that does not parse gives the default's (the hotkey check names the
    error)."""
    try:
        combo = parse_hotkey(trigger)
    except HotkeyError:
        combo = parse_hotkey(HotkeyConfig().trigger)
    return [m for m in MODIFIER_ORDER if m in combo.modifiers], combo.names.x_keysym


def bindings(family: str, trigger: str) -> dict[str, Any]:
    """How to bind the dictation key (`trigger`, as [hotkey] trigger writes it) in this desktop:
    {"where": ..., "lines": [...]}."""
    mods, key = _combo(trigger)
    if family in ("sway", "i3"):
        keys = "+".join([*(_SWAY_MODS[m] for m in mods), key])
        return {"where": f"add to ~/.config/{family}/config, then reload",
                "lines": [f"bindsym --no-repeat {keys} exec onevox start-dictation",
                          f"bindsym --release {keys} exec onevox stop-dictation"]}
    if family == "hyprland":
        keys = f"{' '.join(_HYPR_MODS[m] for m in mods)}, {key}"
        return {"where": "add to ~/.config/hypr/hyprland.conf",
                "lines": [f"bind = {keys}, exec, onevox start-dictation",
                          f"bindr = {keys}, exec, onevox stop-dictation"]}
    if family == "river":
        keys = f"{'+'.join(_RIVER_MODS[m] for m in mods) or 'None'} {key}"
        return {"where": "add to ~/.config/river/init",
                "lines": [f"riverctl map normal {keys} spawn 'onevox start-dictation'",
                          f"riverctl map -release normal {keys} spawn 'onevox stop-dictation'"]}
    if family == "gnome":
        path_key = f"{GNOME_SCHEMA}.custom-keybinding:{GNOME_PATH}"
        keys = "".join(_GNOME_MODS[m] for m in mods) + key
        # GNOME runs a custom shortcut's command again on every key repeat of a held chord: each run toggles
        return {"where": "run (the first line replaces any custom shortcuts you have: add the path to the "
                         "list instead if you do); then tap the keys to start and again to stop, or hold "
                         "them while you speak",
                "lines": [f"gsettings set {GNOME_SCHEMA} custom-keybindings \"['{GNOME_PATH}']\"",
                          f"gsettings set {path_key} name 'onevox'",
                          f"gsettings set {path_key} command 'onevox toggle'",
                          f"gsettings set {path_key} binding '{keys}'"]}
    if family == "kde":
        return {"where": "System Settings > Shortcuts > Custom Shortcuts: add a command shortcut "
                         f"({trigger.strip()}) that runs",
                "lines": ["onevox toggle"]}
    return {"where": f"bind a key ({trigger.strip()}) in your compositor or desktop to run (or `onevox "
                     "start-dictation` on press and `onevox stop-dictation` on release)",
            "lines": ["onevox toggle"]}
