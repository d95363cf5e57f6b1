"""Which window has the keyboard focus, its application and title: what per-application profiles match.

    X11, and X11 windows under XWayland: _NET_ACTIVE_WINDOW (an EWMH window manager), else the input focus
    sway (and compositors speaking its IPC, named by SWAYSOCK): the focused node of its tree
    Hyprland: `activewindow` over its request socket
    KDE Plasma on Wayland: KWin's `workspace.activeClient`, read by a one-shot KWin script (desktop/kwin.py)
    GNOME on Wayland: nothing; it tells no client which Wayland window has the focus (only a shell extension
    could), so only X11 windows under XWayland are seen there.

`FocusReader.focused()` runs at the start of every dictation: it keeps its X connection (and on KDE its
session-bus connection) open between calls and asks the compositor directly, never through a helper program.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import struct
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from onevox.desktop.kwin import KWinFocus, KWinFocusError, is_kwin_wayland
from onevox.desktop.session import detect_family, detect_session

if TYPE_CHECKING:
    from Xlib.display import Display
    from Xlib.xobject.drawable import Window

log = logging.getLogger(__name__)

MAX_PARENTS = 16  # walking up from a focused child window to the one that carries WM_CLASS
IPC_TIMEOUT_S = 0.5
SWAY_IPC_MAGIC = b"i3-ipc"
SWAY_GET_TREE = 4
MAX_REPLY = 64 * 1024 * 1024


@dataclass(frozen=True)
class FocusedWindow:
    app: tuple[str, ...]  # WM_CLASS instance and class (X11, XWayland), or the Wayland app_id
    title: str
    source: str  # "x11", "sway", "hyprland" or "kwin": who told


def focus_blind_reason(env: Mapping[str, str] | None = None) -> str | None:
    """Why the focused Wayland window cannot be seen in this session (None: it can, or this is X11)."""
    env = os.environ if env is None else env
    if detect_session(env) != "wayland" or env.get("SWAYSOCK") or env.get("HYPRLAND_INSTANCE_SIGNATURE"):
        return None
    if is_kwin_wayland(env):
        return None  # KWin answers a script (whether it does here, doctor tries)
    family = detect_family(env)
    desktop = {"gnome": "GNOME"}.get(family, f"this compositor ({family})")
    return (f"{desktop} on Wayland does not tell applications which window has the focus: profiles "
            "match only X11 (XWayland) windows here")


class FocusReader:
    """Thread-safe; keeps one X connection (opened on first use, reopened after a failure)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = dict(os.environ if env is None else env)
        self._lock = threading.Lock()
        self._display: Display | None = None
        self._kwin = KWinFocus(self._env) if is_kwin_wayland(self._env) else None
        self._kwin_failed = False  # logged once

    def focused(self) -> FocusedWindow | None:
        """The focused window, or None when it cannot be told (no session, nothing focused, a blind
        compositor, no answer in time)."""
        env = self._env
        if env.get("SWAYSOCK"):
            found = sway_focused(env["SWAYSOCK"])
            if found is not None:
                return found
        if env.get("HYPRLAND_INSTANCE_SIGNATURE"):
            found = hyprland_focused(env)
            if found is not None:
                return found
        if self._kwin is not None:
            try:
                window = self._kwin.lookup()
            except KWinFocusError as exc:
                if not self._kwin_failed:
                    self._kwin_failed = True
                    log.warning("no focused window from KWin (profiles see X11 windows only): %s", exc)
            else:
                self._kwin_failed = False
                return None if window is None else FocusedWindow(window.app, window.caption, "kwin")
        if not env.get("DISPLAY"):
            return None
        # under Wayland the X input focus may still name the last X11 window after a Wayland one got the
        # focus; the window manager's _NET_ACTIVE_WINDOW does not
        with self._lock:
            return self._x11(active_only=detect_session(env) == "wayland")

    def close(self) -> None:
        if self._kwin is not None:
            self._kwin.close()
        with self._lock:
            if self._display is not None:
                self._display.close()
                self._display = None

    def _x11(self, *, active_only: bool) -> FocusedWindow | None:
        from Xlib.error import ConnectionClosedError, DisplayError, XError

        try:
            if self._display is None:
                from Xlib.display import Display

                self._display = Display(self._env["DISPLAY"])
            return x11_focused(self._display, active_only=active_only)
        except (XError, DisplayError, ConnectionClosedError, OSError):
            if self._display is not None:
                with contextlib.suppress(XError, ConnectionClosedError, OSError):
                    self._display.close()
            self._display = None
            return None


def x11_focused(display: Display, *, active_only: bool = False) -> FocusedWindow | None:
    """The EWMH active window, else (without a window manager) the input focus walked up to the window that
    carries WM_CLASS."""
    window = active_window(display)
    if window is None and not active_only:
        focus = display.get_input_focus().focus
        window = None if isinstance(focus, int) else _with_class(display, focus)
    if window is None:
        return None
    names = window.get_wm_class() or ()
    return FocusedWindow(tuple(n for n in names if n), _title(display, window), "x11")


def active_window(display: Display) -> Window | None:
    """_NET_ACTIVE_WINDOW from an EWMH window manager (its focus may sit on a frame, not the client)."""
    from Xlib import X

    atom = display.intern_atom("_NET_ACTIVE_WINDOW", only_if_exists=True)
    if not atom:
        return None
    prop = display.screen().root.get_full_property(atom, X.AnyPropertyType)
    if prop is None or not len(prop.value) or not prop.value[0]:
        return None
    return display.create_resource_object("window", int(prop.value[0]))


def _with_class(display: Display, window: Window) -> Window | None:
    root = display.screen().root
    for _ in range(MAX_PARENTS):
        if window.get_wm_class():
            return window
        parent = window.query_tree().parent
        if not parent or parent == root:
            return None
        window = parent
    return None


def _title(display: Display, window: Window) -> str:
    """_NET_WM_NAME (UTF-8), else the legacy WM_NAME."""
    atom = display.intern_atom("_NET_WM_NAME", only_if_exists=True)
    if atom:
        prop = window.get_full_property(atom, display.intern_atom("UTF8_STRING"))
        if prop is not None and prop.value:
            value = prop.value
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    name = window.get_wm_name()
    if isinstance(name, bytes):
        return name.decode("latin-1")
    return name or ""


# -- sway -----------------------------------------------------------------------------------------------


def sway_focused(path: str, timeout: float = IPC_TIMEOUT_S) -> FocusedWindow | None:
    """The focused node of sway's tree: a Wayland window's app_id, an XWayland window's instance and class."""
    try:
        tree = sway_request(path, SWAY_GET_TREE, timeout)
    except (OSError, ValueError):
        return None
    node = sway_focused_node(tree) if isinstance(tree, dict) else None
    if node is None or node.get("type") not in ("con", "floating_con"):  # a workspace: no window focused
        return None
    title = node.get("name") if isinstance(node.get("name"), str) else ""
    app_id = node.get("app_id")
    if isinstance(app_id, str) and app_id:
        return FocusedWindow((app_id,), title or "", "sway")
    props = node.get("window_properties")
    names = [props.get("instance"), props.get("class")] if isinstance(props, dict) else []
    return FocusedWindow(tuple(n for n in names if isinstance(n, str) and n), title or "", "sway")


def sway_request(path: str, kind: int, timeout: float) -> Any:
    """One i3/sway IPC message (magic, length, type, payload; native byte order) and its decoded reply."""
    header = struct.Struct("=6sII")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(header.pack(SWAY_IPC_MAGIC, 0, kind))
        magic, length, _kind = header.unpack(_recv_exactly(sock, header.size))
        if magic != SWAY_IPC_MAGIC or length > MAX_REPLY:
            raise ValueError("not an i3/sway IPC reply")
        return json.loads(_recv_exactly(sock, length))


def sway_focused_node(node: dict[str, Any]) -> dict[str, Any] | None:
    if node.get("focused"):
        return node
    for child in [*node.get("nodes", []), *node.get("floating_nodes", [])]:
        if isinstance(child, dict):
            found = sway_focused_node(child)
            if found is not None:
                return found
    return None


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(size - len(data), 1 << 20))
        if not chunk:
            raise ValueError("the compositor closed the IPC connection")
        data += chunk
    return bytes(data)


# -- Hyprland -------------------------------------------------------------------------------------------


def hyprland_socket(env: Mapping[str, str]) -> str:
    """Hyprland's request socket: under $XDG_RUNTIME_DIR/hypr since 0.40, under /tmp/hypr before."""
    signature = env.get("HYPRLAND_INSTANCE_SIGNATURE", "")
    runtime = env.get("XDG_RUNTIME_DIR", "")
    candidates = [os.path.join(base, "hypr", signature, ".socket.sock") for base in (runtime, "/tmp") if base]
    return next((path for path in candidates if os.path.exists(path)), candidates[0] if candidates else "")


def hyprland_focused(env: Mapping[str, str], timeout: float = IPC_TIMEOUT_S) -> FocusedWindow | None:
    """`j/activewindow` (what `hyprctl activewindow -j` sends): the window's class and title as JSON."""
    path = hyprland_socket(env)
    if not path:
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(b"j/activewindow")
            data = bytearray()
            while len(data) <= MAX_REPLY and (chunk := sock.recv(1 << 16)):
                data += chunk
        reply = json.loads(data)
    except (OSError, ValueError):
        return None
    if not isinstance(reply, dict) or not isinstance(reply.get("class"), str):
        return None  # nothing focused: Hyprland answers {}
    names = [reply["class"], reply.get("initialClass")]
    app = tuple(dict.fromkeys(n for n in names if isinstance(n, str) and n))
    title = reply.get("title")
    return FocusedWindow(app, title if isinstance(title, str) else "", "hyprland")
