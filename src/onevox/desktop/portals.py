"""Which xdg-desktop-portal interfaces this desktop likely offers (GlobalShortcuts for a hotkey,
RemoteDesktop for typing), and where the D-Bus session bus is.

The cheap answer reads the portal backends' `.portal` files, as xdg-desktop-portal itself does at start:
each names the `org.freedesktop.impl.portal.*` interfaces it implements and the desktops it serves
(`UseIn=`). Asking the portal over D-Bus is better when jeepney is installed; it is imported lazily and
never required.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable, Mapping

PORTAL_DIRS = ("/usr/share/xdg-desktop-portal/portals", "/usr/local/share/xdg-desktop-portal/portals")
PORTAL_PREFIX = "org.freedesktop.portal."
IMPL_PREFIX = "org.freedesktop.impl.portal."
PORTAL_BUS_NAME = "org.freedesktop.portal.Desktop"
PORTAL_OBJECT = "/org/freedesktop/portal/desktop"
INTROSPECT_TIMEOUT_S = 1.0


def session_bus_address(environ: Mapping[str, str], exists: Callable[[str], bool] = os.path.exists) -> str:
    """The session bus's address, '' when there is none to reach: $DBUS_SESSION_BUS_ADDRESS, else the
    systemd default $XDG_RUNTIME_DIR/bus when that socket exists."""
    address = environ.get("DBUS_SESSION_BUS_ADDRESS", "").strip()
    if address:
        for part in address.split(";"):  # unix:path=... whose socket is gone is no bus at all
            if part.startswith("unix:path="):
                path = part[len("unix:path="):].split(",", 1)[0]
                if exists(path):
                    return address
            elif part:
                return address  # abstract sockets, tcp: assume reachable
        return ""
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    if runtime and exists(os.path.join(runtime, "bus")):
        return f"unix:path={os.path.join(runtime, 'bus')}"
    return ""


def portal_interfaces_from_files(texts: Iterable[str], desktops: Iterable[str]) -> tuple[str, ...]:
    """The portal interfaces (org.freedesktop.portal.X) that the backends described by `texts` (the
    contents of `.portal` files) implement for any of `desktops` (XDG_CURRENT_DESKTOP's names)."""
    import configparser

    wanted = {d.lower() for d in desktops}
    found: set[str] = set()
    for text in texts:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text)
        except configparser.Error:
            continue
        if not parser.has_section("portal"):
            continue
        use_in = {d.strip().lower() for d in parser.get("portal", "UseIn", fallback="").split(";")} - {""}
        if use_in and not (use_in & wanted):
            continue
        for name in parser.get("portal", "Interfaces", fallback="").split(";"):
            name = name.strip()
            if name.startswith(IMPL_PREFIX):
                found.add(PORTAL_PREFIX + name[len(IMPL_PREFIX):])
    return tuple(sorted(found))


def backend_for_this_desktop(interface: str, environ: Mapping[str, str],
                             texts: Iterable[str] | None = None) -> bool | None:
    """Whether an installed portal backend meant for this desktop (XDG_CURRENT_DESKTOP, matched against each
    `.portal` file's UseIn) implements `interface`; None when that cannot be told (no desktop named, no
    portal files). The portal frontend exports an interface when any backend has it: xdg-desktop-portal
    1.16 falls back to a backend meant for another desktop (KDE's, installed on a GNOME machine), which then
    accepts a shortcut and never fires it there."""
    desktops = [d for d in environ.get("XDG_CURRENT_DESKTOP", "").split(":") if d]
    files = read_portal_files() if texts is None else list(texts)
    if not desktops or not files:
        return None
    return interface in portal_interfaces_from_files(files, desktops)


def read_portal_files(dirs: Iterable[str] = PORTAL_DIRS) -> list[str]:
    texts = []
    for folder in dirs:
        for path in sorted(glob.glob(os.path.join(folder, "*.portal"))):
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    texts.append(f.read())
            except OSError:
                continue
    return texts


def introspect_portal(address: str, timeout: float = INTROSPECT_TIMEOUT_S) -> tuple[str, ...] | None:
    """The interfaces the running portal exports, asked over D-Bus with jeepney; None when that cannot be
    asked (jeepney missing, no bus, no portal answering in time)."""
    try:
        from jeepney import DBusAddress, MessageType, new_method_call
        from jeepney.io.blocking import open_dbus_connection
    except ImportError:
        return None
    import xml.etree.ElementTree as ET

    try:
        with open_dbus_connection(bus=address) as conn:
            target = DBusAddress(PORTAL_OBJECT, bus_name=PORTAL_BUS_NAME,
                                 interface="org.freedesktop.DBus.Introspectable")
            reply = conn.send_and_get_reply(new_method_call(target, "Introspect"), timeout=timeout)
        xml = reply.body[0] if reply.body else None
        if reply.header.message_type != MessageType.method_return or not isinstance(xml, str):
            return None
        root = ET.fromstring(xml)
    except Exception:  # any failure (no bus, a timeout, a D-Bus error reply, bad XML) means "cannot tell"
        return None
    names = {str(node.get("name", "")) for node in root.iter("interface")}
    return tuple(sorted(n for n in names if n.startswith(PORTAL_PREFIX)))
