"""Which application has the keyboard focus, so terminals can get their own paste keys: on X11 from the
window properties, on sway (and other compositors speaking its IPC, named by SWAYSOCK) from the compositor's
tree, since Wayland itself tells no client which window has the focus."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from onevox.desktop.focus import SWAY_GET_TREE, active_window, sway_focused_node, sway_request

if TYPE_CHECKING:
    from Xlib.display import Display
    from Xlib.xobject.drawable import Window

MAX_PARENTS = 16  # walking up from a focused child window to the one that carries WM_CLASS
SWAY_TIMEOUT_S = 0.5


def focused_window_class(display: Display) -> str:
    """WM_CLASS ("instance Class") of the focused application window; '' when it cannot be told."""
    focus = display.get_input_focus().focus
    if not isinstance(focus, int):
        found = _class_upwards(display, focus)
        if found:
            return found
    active = active_window(display)
    return _wm_class(active) if active is not None else ""


def _class_upwards(display: Display, window: Window) -> str:
    from Xlib.error import XError

    root = display.screen().root
    for _ in range(MAX_PARENTS):
        found = _wm_class(window)
        if found:
            return found
        try:
            parent = window.query_tree().parent
        except XError:
            return ""
        if not parent or parent == root:
            return ""
        window = parent
    return ""


def _wm_class(window: Window) -> str:
    from Xlib.error import XError

    try:
        names = window.get_wm_class()
    except XError:  # the window went away meanwhile
        return ""
    return " ".join(names) if names else ""


def is_terminal(wm_class: str, patterns: Iterable[str]) -> bool:
    """True when any pattern is a (case-insensitive) substring of the window class."""
    lowered = wm_class.lower()
    return bool(lowered) and any(p and p.lower() in lowered for p in patterns)


def sway_focused_app(env: Mapping[str, str] | None = None, timeout: float = SWAY_TIMEOUT_S) -> str:
    """The focused window's application under sway, asked over its IPC socket (SWAYSOCK): a Wayland
    window's app_id ("foot"), an XWayland window's "instance Class" as on X11. '' when there is no such
    compositor, or it does not answer within `timeout`, or nothing has the focus."""
    path = (os.environ if env is None else env).get("SWAYSOCK", "")
    if not path:
        return ""
    try:
        tree = sway_request(path, SWAY_GET_TREE, timeout)
    except (OSError, ValueError):
        return ""
    node = sway_focused_node(tree) if isinstance(tree, dict) else None
    if node is None:
        return ""
    app_id = node.get("app_id")
    if isinstance(app_id, str) and app_id:
        return app_id
    props = node.get("window_properties")
    if isinstance(props, dict):
        names = [props.get("instance"), props.get("class")]
        return " ".join(n for n in names if isinstance(n, str) and n)
    return ""
