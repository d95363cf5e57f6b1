"""The desktop layer: which session this is (X11, or which Wayland compositor) and what it offers (D-Bus,
portals, uinput, /dev/input, helper programs). The hotkey and the injection stages both use it; it imports
neither of them.

    detect_session(environ)  -> "x11" | "wayland" | "none"      (pure, instant)
    probe_desktop(environ, which=..., access=..., ...) -> Desktop (a few file checks; no side effects)
"""

from __future__ import annotations

from onevox.desktop.probe import TOOLS, Desktop, package_for, probe_desktop
from onevox.desktop.session import (
    FAMILIES,
    SESSIONS,
    desktop_names,
    detect_family,
    detect_session,
    display_socket,
)

__all__ = ["FAMILIES", "SESSIONS", "TOOLS", "Desktop", "desktop_names", "detect_family", "detect_session",
           "display_socket", "package_for", "probe_desktop"]
