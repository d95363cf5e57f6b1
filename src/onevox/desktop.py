"""Which kind of graphical session we run in. Both the hotkey and the injection stage choose their backends
by it, so it belongs to neither package."""

from __future__ import annotations

import os
from collections.abc import Mapping


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
