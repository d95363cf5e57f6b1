"""Per-application profiles: which `[profiles.NAME]` the focused window matches when a dictation starts, and
the settings that dictation then runs with.

The window is the one the user was in when they pressed the key (injection types into that window too).
The first profile in file order that matches wins; none matching leaves the config as it is. A profile
matches when each matcher it has matches: `match_class` (any name equal to the window's WM_CLASS instance or
class, or its Wayland app_id, case-insensitive) and `match_title` (a regular expression found in the title).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from onevox.config import Config, InjectionConfig, ProfileConfig
from onevox.desktop.focus import FocusedWindow, FocusReader, focus_blind_reason
from onevox.desktop.kwin import is_kwin_wayland

log = logging.getLogger(__name__)

KWIN_SOURCE = "KWin (a one-shot script loaded through org.kde.KWin /Scripting)"


@dataclass(frozen=True)
class Choice:
    """What one dictation runs with."""

    profile: str  # the matched profile's name; "" when none matched
    enabled: bool  # False: the profile turns dictation off in that window
    config: Config  # the daemon's config with the profile's overrides
    window: FocusedWindow | None  # None: not looked up (no profiles) or it cannot be told
    sections: tuple[str, ...] = ()  # the sections the profile changes

    @property
    def injection(self) -> InjectionConfig | None:
        """The profile's own injection settings; None: the daemon's injector serves this dictation."""
        return self.config.injection if "injection" in self.sections else None


def matches(profile: ProfileConfig, window: FocusedWindow) -> bool:
    if profile.match_class:
        names = {name.lower() for name in window.app}
        if not any(pattern.lower() in names for pattern in profile.match_class):
            return False
    return not profile.match_title or re.search(profile.match_title, window.title) is not None


def find_profile(profiles: Sequence[ProfileConfig], window: FocusedWindow | None) -> ProfileConfig | None:
    if window is None:
        return None
    return next((profile for profile in profiles if matches(profile, window)), None)


def apply_profile(config: Config, profile: ProfileConfig) -> Config:
    """`config` with the profile's keys in place of its own (the keys were checked when the file was read)."""
    for section, values in profile.overrides.items():
        config = config.with_changes(section, **values)
    return config


def focus_source(env: Mapping[str, str]) -> tuple[str, str | None]:
    """Where the focused window is learnt in this session, and why it cannot be (None: it can)."""
    blind = focus_blind_reason(env)
    if env.get("SWAYSOCK"):
        return "sway's IPC (SWAYSOCK)", None
    if env.get("HYPRLAND_INSTANCE_SIGNATURE"):
        return "Hyprland's socket", None
    if is_kwin_wayland(env):
        return KWIN_SOURCE, None
    if blind is None and env.get("DISPLAY"):
        return "X11 (_NET_ACTIVE_WINDOW, else the input focus)", None
    return "nowhere", blind or "no graphical session (no DISPLAY or WAYLAND_DISPLAY)"


class ProfileChooser:
    """Looks the focused window up (only when there are profiles) and picks the profile for a dictation."""

    def __init__(self, reader: FocusReader | None = None) -> None:
        self.reader = reader or FocusReader()
        self._warned = False

    def choose(self, config: Config) -> Choice:
        if not config.profiles:
            return Choice("", True, config, None)
        if not self._warned:
            self._warned = True
            reason = focus_blind_reason()
            if reason:
                log.warning("%s", reason)
        window = self.reader.focused()
        profile = find_profile(config.profiles, window)
        if profile is None:
            return Choice("", True, config, window)
        return Choice(profile.name, profile.enabled, apply_profile(config, profile), window,
                      tuple(profile.overrides))

    def close(self) -> None:
        self.reader.close()
