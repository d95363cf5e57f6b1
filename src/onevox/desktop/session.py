"""Which kind of graphical session we run in, and which desktop or compositor drives it. Pure functions of
an environment mapping: the hotkey and the injection stages choose their backends by them."""

from __future__ import annotations

import os
from collections.abc import Mapping

SESSIONS = ("x11", "wayland", "none")
# what `family` can be; wlroots-other: a wlroots compositor we do not name (labwc, wayfire, niri, ...)
FAMILIES = ("sway", "hyprland", "river", "wlroots-other", "gnome", "kde", "i3", "other")

# lower-cased names as XDG_CURRENT_DESKTOP / XDG_SESSION_DESKTOP / DESKTOP_SESSION spell them
_NAMES: dict[str, str] = {
    "sway": "sway", "hyprland": "hyprland", "river": "river",
    "gnome": "gnome", "gnome-classic": "gnome", "gnome-flashback": "gnome", "ubuntu": "gnome",
    "ubuntu-wayland": "gnome", "ubuntu-xorg": "gnome", "pop": "gnome", "unity": "gnome",
    "kde": "kde", "plasma": "kde", "plasmawayland": "kde", "plasmax11": "kde", "kde-plasma": "kde",
    "i3": "i3", "i3wm": "i3",
    "wlroots": "wlroots-other", "labwc": "wlroots-other", "wayfire": "wlroots-other", "niri": "wlroots-other",
    "dwl": "wlroots-other", "qtile": "wlroots-other", "cage": "wlroots-other", "hikari": "wlroots-other",
}


def detect_session(environ: Mapping[str, str] | None = None) -> str:
    """'wayland', 'x11' or 'none' (no graphical session: only stdout can deliver text).

    Wayland wins when both are set: under XWayland $DISPLAY exists too, but X11 tools reach only X clients.
    """
    env = os.environ if environ is None else environ
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE", "").lower() == "wayland":
        return "wayland"
    if env.get("DISPLAY"):
        return "x11"
    return "none"


def display_socket(environ: Mapping[str, str] | None = None) -> str | None:
    """The socket the session's display listens on: $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY on Wayland,
    /tmp/.X11-unix/XN for a local X display; None when there is none or it is not a local socket (a remote
    or TCP X display, a Wayland display named by an absolute path is returned as it is)."""
    env = os.environ if environ is None else environ
    session = detect_session(env)
    if session == "wayland":
        name = env.get("WAYLAND_DISPLAY", "") or "wayland-0"
        if os.path.isabs(name):
            return name
        runtime = env.get("XDG_RUNTIME_DIR", "")
        return os.path.join(runtime, name) if runtime else None
    if session == "x11":
        display = env.get("DISPLAY", "")
        host, _, rest = display.rpartition(":")
        number = rest.split(".", 1)[0]
        if host not in ("", "unix") or not number.isdigit():
            return None
        return f"/tmp/.X11-unix/X{number}"
    return None


def detect_family(environ: Mapping[str, str] | None = None) -> str:
    """The desktop or compositor: one of FAMILIES. A compositor's own socket variable (SWAYSOCK,
    HYPRLAND_INSTANCE_SIGNATURE) is the surest sign; then the XDG names, first match wins."""
    env = os.environ if environ is None else environ
    if env.get("HYPRLAND_INSTANCE_SIGNATURE"):
        return "hyprland"
    if env.get("SWAYSOCK"):
        # i3 sets I3SOCK only; sway sets both SWAYSOCK and I3SOCK (for i3 tools)
        return "sway"
    if env.get("I3SOCK") and detect_session(env) == "x11":
        return "i3"
    names = [*desktop_names(env), *_split(env.get("XDG_SESSION_DESKTOP", "")),
             *_split(env.get("DESKTOP_SESSION", ""))]
    for name in names:
        family = _NAMES.get(name.lower())
        if family is None and name.lower().startswith(("gnome", "ubuntu")):
            family = "gnome"
        if family is None and name.lower().startswith(("kde", "plasma")):
            family = "kde"
        if family is not None:
            return family
    if env.get("KDE_FULL_SESSION") or env.get("KDE_SESSION_VERSION"):
        return "kde"
    if env.get("GNOME_SETUP_DISPLAY") or env.get("GNOME_DESKTOP_SESSION_ID"):
        return "gnome"
    return "other"


def desktop_names(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """XDG_CURRENT_DESKTOP's colon-separated names ("ubuntu:GNOME" -> ("ubuntu", "GNOME"))."""
    env = os.environ if environ is None else environ
    return _split(env.get("XDG_CURRENT_DESKTOP", ""))


def _split(value: str) -> tuple[str, ...]:
    # DESKTOP_SESSION may be a path (/usr/share/xsessions/plasma)
    return tuple(os.path.basename(part.strip()) for part in value.split(":") if part.strip())
