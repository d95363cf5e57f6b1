"""The focused-window lookup that per-application profiles match against, on real desktops: Xvfb with Tk
windows (without a window manager, and with an EWMH _NET_ACTIVE_WINDOW set as one would), headless sway
with GTK windows; Hyprland's socket protocol against a stand-in socket (Hyprland does not run headless
here)."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from onevox.desktop.focus import FocusedWindow, FocusReader, focus_blind_reason, hyprland_focused
from tests.support.desktop import VirtualDesktop


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory):
    with VirtualDesktop.start(tmp_path_factory.mktemp("focus")) as desk:
        yield desk


def test_x11_focused_window_class_and_title(desktop: VirtualDesktop) -> None:
    notes = desktop.open_target("notes", class_name="Notes")
    editor = desktop.open_target("editor", class_name="Codeeditor")
    reader = FocusReader(desktop.env)
    try:
        found = reader.focused()
        assert found == FocusedWindow(("codeeditor", "Codeeditor"), editor.title, "x11")
        notes.focus()
        assert reader.focused() == FocusedWindow(("notes", "Notes"), notes.title, "x11")
    finally:
        reader.close()


def test_x11_window_manager_active_window_wins_over_the_input_focus(desktop: VirtualDesktop) -> None:
    from Xlib import Xatom
    from Xlib.display import Display

    first = desktop.open_target("first", class_name="First")
    second = desktop.open_target("second", class_name="Second", focus=False)
    first.focus()
    display = Display(desktop.env["DISPLAY"])
    root = display.screen().root
    atom = display.intern_atom("_NET_ACTIVE_WINDOW")
    reader = FocusReader(desktop.env)
    try:
        root.change_property(atom, Xatom.WINDOW, 32, [int(second.wid)])
        display.sync()
        assert reader.focused() == FocusedWindow(("second", "Second"), second.title, "x11")
        # under Wayland only the window manager's answer counts: the X input focus may be stale
        root.change_property(atom, Xatom.WINDOW, 32, [0])
        display.sync()
        assert reader.focused() == FocusedWindow(("first", "First"), first.title, "x11")
        wayland = FocusReader({**desktop.env, "WAYLAND_DISPLAY": "wayland-9"})
        assert wayland.focused() is None
        wayland.close()
    finally:
        root.delete_property(atom)
        display.sync()
        display.close()
        reader.close()


def test_no_display_and_a_display_that_went_away_tell_nothing(tmp_path: Path) -> None:
    assert FocusReader({}).focused() is None
    reader = FocusReader({"DISPLAY": ":4321"})  # no such server
    assert reader.focused() is None
    assert reader.focused() is None  # and it keeps trying, without raising


def test_blind_wayland_desktops_are_named() -> None:
    gnome = {"WAYLAND_DISPLAY": "wayland-0", "XDG_CURRENT_DESKTOP": "GNOME"}
    assert focus_blind_reason(gnome) == ("GNOME on Wayland does not tell applications which window has the "
                                         "focus: profiles match only X11 (XWayland) windows here")
    assert "this compositor (other)" in (focus_blind_reason({**gnome, "XDG_CURRENT_DESKTOP": "Weston"}) or "")
    assert focus_blind_reason({"DISPLAY": ":0"}) is None
    assert focus_blind_reason({**gnome, "SWAYSOCK": "/run/sway.sock"}) is None
    assert focus_blind_reason({**gnome, "HYPRLAND_INSTANCE_SIGNATURE": "abc"}) is None


class FakeHyprland:
    """Hyprland's request socket: reads one request, answers `reply`, closes (as Hyprland does)."""

    def __init__(self, path: Path, reply: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen()
        self.reply = reply
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                self.requests.append(conn.recv(1024))
                conn.sendall(self.reply)

    def close(self) -> None:
        self.server.close()


def test_hyprland_active_window(tmp_path: Path) -> None:
    env = {"HYPRLAND_INSTANCE_SIGNATURE": "sig", "XDG_RUNTIME_DIR": str(tmp_path), "WAYLAND_DISPLAY": "w-1"}
    window = {"address": "0x55", "class": "kitty", "initialClass": "kitty", "title": "vim notes.txt"}
    fake = FakeHyprland(tmp_path / "hypr" / "sig" / ".socket.sock", json.dumps(window).encode())
    try:
        assert FocusReader(env).focused() == FocusedWindow(("kitty",), "vim notes.txt", "hyprland")
        assert fake.requests == [b"j/activewindow"]
    finally:
        fake.close()
    empty = FakeHyprland(tmp_path / "hypr" / "none" / ".socket.sock", b"{}")
    try:
        assert hyprland_focused({**env, "HYPRLAND_INSTANCE_SIGNATURE": "none"}) is None
    finally:
        empty.close()
    assert hyprland_focused({**env, "HYPRLAND_INSTANCE_SIGNATURE": "gone"}) is None


@pytest.mark.e2e
def test_sway_focused_window_app_id_and_title() -> None:
    from tests.support.wayland import SwaySession

    with SwaySession.start() as sway:
        notes = sway.open_target("notes", app_id="onevox-notes")
        sway.open_target("other", app_id="onevox-other")
        sway.focus_window(notes)
        assert FocusReader(sway.env).focused() == FocusedWindow(("onevox-notes",), notes.title, "sway")
