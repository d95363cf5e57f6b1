"""probe_desktop over described desktops: every look at the machine is an argument, so no desktop is
needed."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pytest

from onevox.desktop import Desktop, detect_family, detect_session, package_for, probe_desktop
from onevox.desktop.portals import portal_interfaces_from_files, session_bus_address

SWAY = {"WAYLAND_DISPLAY": "wayland-1", "SWAYSOCK": "/run/user/1000/sway-ipc.1000.42.sock",
        "I3SOCK": "/run/user/1000/sway-ipc.1000.42.sock", "XDG_CURRENT_DESKTOP": "sway",
        "XDG_RUNTIME_DIR": "/run/user/1000"}
HYPRLAND = {"WAYLAND_DISPLAY": "wayland-1", "HYPRLAND_INSTANCE_SIGNATURE": "abc_123",
            "XDG_CURRENT_DESKTOP": "Hyprland", "XDG_SESSION_TYPE": "wayland",
            "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus"}
GNOME = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0", "XDG_CURRENT_DESKTOP": "ubuntu:GNOME",
         "XDG_SESSION_DESKTOP": "ubuntu", "DESKTOP_SESSION": "ubuntu", "XDG_SESSION_TYPE": "wayland",
         "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus"}
KDE = {"WAYLAND_DISPLAY": "wayland-0", "XDG_CURRENT_DESKTOP": "KDE", "KDE_FULL_SESSION": "true",
       "DESKTOP_SESSION": "/usr/share/wayland-sessions/plasmawayland"}
X11_I3 = {"DISPLAY": ":0", "I3SOCK": "/run/user/1000/i3/ipc-socket.1", "XDG_CURRENT_DESKTOP": "i3"}
X11_XFCE = {"DISPLAY": ":0", "XDG_CURRENT_DESKTOP": "XFCE", "XDG_SESSION_TYPE": "x11"}
RIVER = {"WAYLAND_DISPLAY": "wayland-1", "XDG_CURRENT_DESKTOP": "river"}
LABWC = {"WAYLAND_DISPLAY": "wayland-1", "XDG_CURRENT_DESKTOP": "labwc:wlroots"}
NONE: dict[str, str] = {"HOME": "/root", "TERM": "xterm"}

GNOME_PORTAL = """[portal]
DBusName=org.freedesktop.impl.portal.desktop.gnome
Interfaces=org.freedesktop.impl.portal.RemoteDesktop;org.freedesktop.impl.portal.ScreenCast;org.freedesktop.impl.portal.GlobalShortcuts;
UseIn=gnome
"""
WLR_PORTAL = """[portal]
DBusName=org.freedesktop.impl.portal.desktop.wlr
Interfaces=org.freedesktop.impl.portal.Screenshot;org.freedesktop.impl.portal.ScreenCast;
UseIn=wlroots;sway;Wayfire;river;phoc;Hyprland;
"""
GTK_PORTAL = """[portal]
DBusName=org.freedesktop.impl.portal.desktop.gtk
Interfaces=org.freedesktop.impl.portal.FileChooser;org.freedesktop.impl.portal.AppChooser;
"""


def machine(env: Mapping[str, str], *, tools: Iterable[str] = (), files: Iterable[str] = (),
            readable: Iterable[str] = (), writable: Iterable[str] = (), groups: Iterable[str] = (),
            nodes: Iterable[str] = (), portal_texts: Iterable[str] = (),
            introspect: Callable[[str], tuple[str, ...] | None] | None = None) -> Desktop:
    tools, files, readable, writable = set(tools), set(files), set(readable), set(writable)

    def access(path: str, mode: int) -> bool:
        return path in (writable if mode == os.W_OK else readable)

    return probe_desktop(
        env, which=lambda t: f"/usr/bin/{t}" if t in tools else None, access=access,
        exists=lambda p: p in files, groups=lambda: set(groups), list_input=lambda: list(nodes),
        portal_files=lambda: list(portal_texts), introspect=introspect)


@pytest.mark.parametrize(("env", "session", "family"), [
    (SWAY, "wayland", "sway"),
    (HYPRLAND, "wayland", "hyprland"),
    (GNOME, "wayland", "gnome"),
    (KDE, "wayland", "kde"),
    (RIVER, "wayland", "river"),
    (LABWC, "wayland", "wlroots-other"),
    (X11_I3, "x11", "i3"),
    (X11_XFCE, "x11", "other"),
    ({"DISPLAY": ":0", "XDG_CURRENT_DESKTOP": "GNOME-Flashback:GNOME"}, "x11", "gnome"),
    ({"DISPLAY": ":0", "DESKTOP_SESSION": "plasma"}, "x11", "kde"),
    ({"WAYLAND_DISPLAY": "w", "XDG_SESSION_DESKTOP": "Hyprland"}, "wayland", "hyprland"),
    ({"WAYLAND_DISPLAY": "w", "XDG_SESSION_DESKTOP": "KDE"}, "wayland", "kde"),
    ({"WAYLAND_DISPLAY": "w", "XDG_CURRENT_DESKTOP": "Wayfire"}, "wayland", "wlroots-other"),
    ({"WAYLAND_DISPLAY": "w", "XDG_CURRENT_DESKTOP": "sway", "SWAYSOCK": "/s"}, "wayland", "sway"),
    (NONE, "none", "other"),
])
def test_session_and_family(env: dict[str, str], session: str, family: str) -> None:
    desktop = machine(env)
    assert (desktop.session, desktop.family) == (session, family)
    assert detect_session(env) == session


def test_sway_sets_i3sock_too_but_is_sway() -> None:
    assert detect_family(SWAY) == "sway"
    assert detect_family(X11_I3) == "i3"
    assert machine(SWAY).wlroots and machine(HYPRLAND).wlroots and not machine(GNOME).wlroots


def test_xdg_current_desktop_names_are_kept() -> None:
    assert machine(GNOME).desktop_names == ("ubuntu", "GNOME")


def test_tools_found_on_the_path() -> None:
    desktop = machine(SWAY, tools=["wtype", "wl-copy", "firefox"])
    assert desktop.tools == frozenset({"wtype", "wl-copy"})
    assert desktop.has("wtype") and not desktop.has("wl-paste")
    assert desktop.missing_tools("wtype", "wl-copy", "wl-paste") == ["wl-paste"]
    assert package_for("wl-paste") == "wl-clipboard" and package_for("xdotool") == "xdotool"


def test_the_session_bus() -> None:
    assert machine(HYPRLAND, files=["/run/user/1000/bus"]).dbus_address == "unix:path=/run/user/1000/bus"
    assert not machine(HYPRLAND).dbus  # the address names a socket that is gone
    assert machine(SWAY, files=["/run/user/1000/bus"]).dbus  # found at $XDG_RUNTIME_DIR/bus
    assert not machine(SWAY).dbus
    abstract = {"DBUS_SESSION_BUS_ADDRESS": "unix:abstract=/tmp/dbus-x,guid=1"}
    assert session_bus_address(abstract, lambda p: False)
    assert session_bus_address({}, lambda p: True) == ""


def test_uinput_and_input_devices() -> None:
    desktop = machine(SWAY, files=["/dev/uinput"], writable=["/dev/uinput"], groups=["input", "wheel"],
                      nodes=["/dev/input/event0", "/dev/input/event1"], readable=["/dev/input/event1"])
    assert desktop.uinput_writable and desktop.input_readable and desktop.in_input_group
    assert desktop.input_nodes == 2
    locked = machine(SWAY, files=["/dev/uinput"], nodes=["/dev/input/event0"], groups=["wheel"])
    assert not locked.uinput_writable and not locked.input_readable and not locked.in_input_group
    assert locked.input_nodes == 1


def test_portals_from_the_portal_files_for_this_desktop() -> None:
    texts = [GNOME_PORTAL, WLR_PORTAL, GTK_PORTAL]
    gnome = machine(GNOME, portal_texts=texts)
    assert gnome.portals_source == "files"
    assert gnome.has_portal("GlobalShortcuts") and gnome.has_portal("org.freedesktop.portal.RemoteDesktop")
    assert gnome.has_portal("FileChooser")  # no UseIn: every desktop
    sway = machine(SWAY, portal_texts=texts)
    assert sway.has_portal("ScreenCast") and not sway.has_portal("RemoteDesktop")
    assert machine(SWAY).portals == () and machine(SWAY).portals_source == "none"


def test_broken_portal_files_are_skipped() -> None:
    assert portal_interfaces_from_files(["not ini at all [", "[other]\nx=1\n", GTK_PORTAL], ["sway"]) == (
        "org.freedesktop.portal.AppChooser", "org.freedesktop.portal.FileChooser")


def test_portals_asked_over_dbus_win_over_the_files() -> None:
    asked: list[str] = []

    def introspect(address: str) -> tuple[str, ...] | None:
        asked.append(address)
        return ("org.freedesktop.portal.GlobalShortcuts",)

    desktop = machine(KDE, files=["/run/user/1000/bus"], portal_texts=[GTK_PORTAL], introspect=introspect)
    assert asked == [] and desktop.portals_source == "files"  # KDE's environ above names no bus
    env = {**KDE, "XDG_RUNTIME_DIR": "/run/user/1000"}
    desktop = machine(env, files=["/run/user/1000/bus"], portal_texts=[GTK_PORTAL], introspect=introspect)
    assert asked == ["unix:path=/run/user/1000/bus"] and desktop.portals_source == "dbus"
    assert desktop.portals == ("org.freedesktop.portal.GlobalShortcuts",)
    fallback = machine(env, files=["/run/user/1000/bus"], portal_texts=[GTK_PORTAL],
                       introspect=lambda a: None)
    assert fallback.portals_source == "files" and fallback.has_portal("FileChooser")


def test_no_session_asks_nothing() -> None:
    def introspect(address: str) -> tuple[str, ...] | None:
        raise AssertionError("no graphical session: no portal to ask")

    desktop = machine({**NONE, "XDG_RUNTIME_DIR": "/r"}, files=["/r/bus"], portal_texts=[GTK_PORTAL],
                      introspect=introspect)
    assert desktop.session == "none" and desktop.dbus and desktop.portals == ()


def test_as_dict_is_json_ready() -> None:
    import json

    data = machine(SWAY, tools=["wtype"]).as_dict()
    assert json.loads(json.dumps(data))["tools"] == ["wtype"]
    assert data["family"] == "sway" and data["session"] == "wayland"


def test_the_real_machine_probe_does_not_fail() -> None:
    desktop = probe_desktop(introspect=None)
    assert desktop.session in ("x11", "wayland", "none")


@pytest.mark.parametrize(("env", "socket"), [
    ({"DISPLAY": ":0"}, "/tmp/.X11-unix/X0"),
    ({"DISPLAY": ":1.0"}, "/tmp/.X11-unix/X1"),
    ({"DISPLAY": "unix:2"}, "/tmp/.X11-unix/X2"),
    ({"DISPLAY": "remote.host:10.0"}, None),  # ssh -X: over TCP, nothing local to look at
    ({"WAYLAND_DISPLAY": "wayland-1", "XDG_RUNTIME_DIR": "/run/user/1000"}, "/run/user/1000/wayland-1"),
    ({"WAYLAND_DISPLAY": "/tmp/w.sock"}, "/tmp/w.sock"),
    ({"WAYLAND_DISPLAY": "wayland-1"}, None),
    ({}, None),
])
def test_display_socket(env: dict[str, str], socket: str | None) -> None:
    from onevox.desktop import display_socket

    assert display_socket(env) == socket


def test_display_reachable() -> None:
    assert machine({"DISPLAY": ":0"}, files=["/tmp/.X11-unix/X0"]).display_reachable is True
    assert machine({"DISPLAY": ":0"}).display_reachable is False
    assert machine({"DISPLAY": "host:0"}).display_reachable is None
    assert machine(NONE).display_reachable is None


def test_wayland_globals_are_unknown_without_a_compositor_answering(tmp_path: Path) -> None:
    import socket
    import time

    from onevox.desktop.wayland import wayland_globals

    assert wayland_globals(str(tmp_path / "wayland-9")) is None  # no socket there
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:  # accepts, never answers
        silent.bind(str(tmp_path / "wayland-1"))
        silent.listen(1)
        started = time.monotonic()
        assert wayland_globals(str(tmp_path / "wayland-1"), timeout=0.3) is None
        assert time.monotonic() - started < 2.0


def test_virtual_keyboard_known_only_from_the_compositor() -> None:
    env = {"WAYLAND_DISPLAY": "wayland-1", "XDG_RUNTIME_DIR": "/run/user/1000"}
    socket = "/run/user/1000/wayland-1"
    asked: list[str] = []

    def announce(path: str) -> tuple[str, ...]:
        asked.append(path)
        return ("wl_seat",)

    gnome = probe_desktop(env, which=lambda t: None, exists=lambda p: p == socket, groups=set,
                          list_input=list, portal_files=list, introspect=None, compositor_globals=announce)
    assert asked == [socket] and gnome.virtual_keyboard is False
    sway = probe_desktop(env, which=lambda t: None, exists=lambda p: p == socket, groups=set, list_input=list,
                         portal_files=list, introspect=None,
                         compositor_globals=lambda p: ("zwp_virtual_keyboard_manager_v1",))
    assert sway.virtual_keyboard is True and sway.as_dict()["virtual_keyboard"] is True
    gone = probe_desktop(env, which=lambda t: None, exists=lambda p: False, groups=set, list_input=list,
                         portal_files=list, introspect=None, compositor_globals=announce)
    assert gone.virtual_keyboard is None and asked == [socket]


KDE_SHORTCUTS_PORTAL = ("[portal]\nDBusName=org.freedesktop.impl.portal.desktop.kde\n"
              "Interfaces=org.freedesktop.impl.portal.GlobalShortcuts;org.freedesktop.impl.portal.FileChooser;\n"
              "UseIn=KDE\n")
GNOME_43_PORTAL = ("[portal]\nDBusName=org.freedesktop.impl.portal.desktop.gnome\n"
                "Interfaces=org.freedesktop.impl.portal.FileChooser;\nUseIn=gnome\n")


def test_a_backend_for_another_desktop_does_not_count_for_this_one() -> None:
    from onevox.desktop.portals import backend_for_this_desktop

    shortcuts = "org.freedesktop.portal.GlobalShortcuts"
    files = [KDE_SHORTCUTS_PORTAL, GNOME_43_PORTAL]
    assert backend_for_this_desktop(shortcuts, {"XDG_CURRENT_DESKTOP": "KDE"}, files) is True
    # GNOME 43 with KDE's backend installed: the frontend falls back to it, and it never fires on GNOME
    assert backend_for_this_desktop(shortcuts, {"XDG_CURRENT_DESKTOP": "ubuntu:GNOME"}, files) is False
    assert backend_for_this_desktop(shortcuts, {}, files) is None  # no desktop named: cannot tell
    assert backend_for_this_desktop(shortcuts, {"XDG_CURRENT_DESKTOP": "GNOME"}, []) is None
