"""`probe_desktop()`: one look at what this desktop offers, as a frozen `Desktop`. Every look at the
machine (the PATH, file access, group membership, portal files, D-Bus) goes through an argument, so tests
describe any desktop without having one."""

from __future__ import annotations

import grp
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from onevox.desktop import portals, wayland
from onevox.desktop.session import desktop_names, detect_family, detect_session, display_socket

# the helper programs the injection methods run, and the Debian/Ubuntu package each comes in
TOOLS: dict[str, str] = {
    "xdotool": "xdotool",
    "xclip": "xclip",
    "xsel": "xsel",
    "wtype": "wtype",
    "wl-copy": "wl-clipboard",
    "wl-paste": "wl-clipboard",
    "ydotool": "ydotool",
    "dotool": "dotool",
}
UINPUT = "/dev/uinput"
INPUT_DIR = "/dev/input"
GLOBAL_SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
REMOTE_DESKTOP = "org.freedesktop.portal.RemoteDesktop"
WLROOTS = ("sway", "hyprland", "river", "wlroots-other")


@dataclass(frozen=True)
class Desktop:
    """Which desktop this is and what it offers to the hotkey and injection stages."""

    session: str  # "x11" | "wayland" | "none" (detect_session)
    family: str  # desktop or compositor: one of onevox.desktop.session.FAMILIES
    desktop_names: tuple[str, ...] = ()  # XDG_CURRENT_DESKTOP, as given
    display_socket: str | None = None  # the display's local socket (None: none, or not a local socket)
    display_reachable: bool | None = None  # that socket exists (None: cannot tell)
    dbus_address: str = ""  # the session bus ('' when none is reachable)
    portals: tuple[str, ...] = ()  # org.freedesktop.portal.* interfaces likely present
    portals_source: str = "none"  # "dbus" (asked the running portal), "files" (.portal files) or "none"
    uinput_writable: bool = False  # /dev/uinput can be opened for writing (ydotool, dotool, virtual keys)
    input_readable: bool = False  # some /dev/input/event* node can be read (the evdev hotkey)
    input_nodes: int = 0  # how many /dev/input/event* nodes exist
    in_input_group: bool = False  # the user is in the 'input' group
    tools: frozenset[str] = field(default_factory=frozenset)  # installed helpers among TOOLS
    wayland_globals: tuple[str, ...] | None = None  # the protocols the compositor announces (None: unknown)

    @property
    def dbus(self) -> bool:
        return bool(self.dbus_address)

    @property
    def wlroots(self) -> bool:
        return self.session == "wayland" and self.family in WLROOTS

    @property
    def virtual_keyboard(self) -> bool | None:
        """The compositor offers the virtual-keyboard protocol wtype needs (None: cannot tell)."""
        if self.session != "wayland" or self.wayland_globals is None:
            return None
        return wayland.VIRTUAL_KEYBOARD in self.wayland_globals

    def has(self, tool: str) -> bool:
        return tool in self.tools

    def has_portal(self, name: str) -> bool:
        """`name` short ("GlobalShortcuts") or full (org.freedesktop.portal.GlobalShortcuts)."""
        full = name if "." in name else portals.PORTAL_PREFIX + name
        return full in self.portals

    def missing_tools(self, *names: str) -> list[str]:
        return [name for name in names if name not in self.tools]

    def as_dict(self) -> dict[str, Any]:
        return {
            "session": self.session, "family": self.family, "desktop_names": list(self.desktop_names),
            "display_socket": self.display_socket, "display_reachable": self.display_reachable,
            "dbus": self.dbus, "dbus_address": self.dbus_address, "portals": list(self.portals),
            "portals_source": self.portals_source, "uinput_writable": self.uinput_writable,
            "input_readable": self.input_readable, "input_nodes": self.input_nodes,
            "in_input_group": self.in_input_group, "tools": sorted(self.tools),
            "wayland_globals": None if self.wayland_globals is None else list(self.wayland_globals),
            "virtual_keyboard": self.virtual_keyboard,
        }


def package_for(tool: str) -> str:
    """The apt package that installs `tool`."""
    return TOOLS.get(tool, tool)


def user_groups() -> set[str]:
    """The names of the groups this process runs with."""
    names = set()
    for gid in {os.getgid(), *os.getgroups()}:
        try:
            names.add(grp.getgrgid(gid).gr_name)
        except KeyError:
            continue
    return names


def input_nodes(folder: str = INPUT_DIR) -> list[str]:
    try:
        return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.startswith("event"))
    except OSError:
        return []


def probe_desktop(
    environ: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    access: Callable[[str, int], bool] = os.access,
    exists: Callable[[str], bool] = os.path.exists,
    groups: Callable[[], set[str]] = user_groups,
    list_input: Callable[[], list[str]] = input_nodes,
    portal_files: Callable[[], list[str]] = portals.read_portal_files,
    introspect: Callable[[str], tuple[str, ...] | None] | None = portals.introspect_portal,
    compositor_globals: Callable[[str], tuple[str, ...] | None] | None = wayland.wayland_globals,
) -> Desktop:
    """What this desktop offers. Cheap and side-effect free: nothing is opened for writing, no key is
    grabbed. `introspect=None` skips asking the portal over D-Bus (the .portal files decide alone);
    `compositor_globals=None` skips asking the Wayland compositor which protocols it offers."""
    env = os.environ if environ is None else environ
    session = detect_session(env)
    names = desktop_names(env)
    address = portals.session_bus_address(env, exists)
    found: tuple[str, ...] | None = None
    source = "none"
    if address and introspect is not None and session != "none":
        found = introspect(address)
        if found is not None:
            source = "dbus"
    if found is None and session != "none":
        found = portals.portal_interfaces_from_files(portal_files(), names)
        source = "files" if found else "none"
    nodes = list_input()
    socket = display_socket(env)
    reachable = None if socket is None else exists(socket)
    announced = None
    if session == "wayland" and socket is not None and reachable and compositor_globals is not None:
        announced = compositor_globals(socket)
    return Desktop(
        session=session,
        family=detect_family(env) if session != "none" else "other",
        desktop_names=names,
        display_socket=socket,
        display_reachable=reachable,
        dbus_address=address,
        portals=found or (),
        portals_source=source,
        uinput_writable=exists(UINPUT) and access(UINPUT, os.W_OK),
        input_readable=any(access(node, os.R_OK) for node in nodes),
        input_nodes=len(nodes),
        in_input_group="input" in groups(),
        tools=frozenset(tool for tool in TOOLS if which(tool)),
        wayland_globals=announced,
    )
