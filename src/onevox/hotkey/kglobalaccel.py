"""KDE's global shortcut service (org.kde.kglobalaccel, inside KWin since Plasma 5.27), for the one thing the
GlobalShortcuts portal of Plasma 5.27 leaves undone.

xdg-desktop-portal-kde 5.27 answers BindShortcuts with success but registers nothing: it only opens System
Settings' shortcut page for a kglobalaccel component named after the portal session's token, which has no
entry to give a key to. What it does do is forward the press and release signals of that component's
actions as the portal's Activated / Deactivated, when the component exists as the session is created. So
onevox registers its action in that component itself (`ensure_action`) and opens the session again; the key
is onevox's trigger unless the user already gave the action another one (kglobalaccel keeps a stored key:
no NoAutoloading flag), and System Settings > Shortcuts shows it under "onevox" to change.
"""

from __future__ import annotations

import logging
import string
from typing import TYPE_CHECKING

from onevox.desktop.keys import Hotkey

if TYPE_CHECKING:
    from jeepney.io.blocking import DBusConnection

log = logging.getLogger(__name__)

BUS_NAME = "org.kde.kglobalaccel"
OBJECT_PATH = "/kglobalaccel"
INTERFACE = "org.kde.KGlobalAccel"
SET_PRESENT = 2  # KGlobalAccel::SetPresent; without NoAutoloading (4) a key stored before is kept
CALL_TIMEOUT_S = 5.0

# Qt::KeyboardModifier values, and Qt::Key values of onevox's key names (desktop/keys.py)
QT_MODIFIERS = {"shift": 0x02000000, "ctrl": 0x04000000, "alt": 0x08000000, "super": 0x10000000}
_QT_NAMED = {
    "space": 0x20, "enter": 0x01000004, "tab": 0x01000001, "escape": 0x01000000, "backspace": 0x01000003,
    "insert": 0x01000006, "delete": 0x01000007, "pause": 0x01000008, "print": 0x01000009, "home": 0x01000010,
    "end": 0x01000011, "left": 0x01000012, "up": 0x01000013, "right": 0x01000014, "down": 0x01000015,
    "pageup": 0x01000016, "pagedown": 0x01000017, "capslock": 0x01000024, "scrolllock": 0x01000026,
    "menu": 0x01000055, "minus": 0x2D, "equal": 0x3D, "comma": 0x2C, "period": 0x2E, "slash": 0x2F,
    "backslash": 0x5C, "semicolon": 0x3B, "apostrophe": 0x27, "grave": 0x60, "bracketleft": 0x5B,
    "bracketright": 0x5D,
}


def qt_key(combo: Hotkey) -> int:
    """`combo` as one Qt key code with modifiers (what kglobalaccel's setShortcut takes)."""
    key = combo.key
    if key in string.ascii_lowercase:
        code = ord(key.upper())
    elif key in string.digits:
        code = ord(key)
    elif key[0] == "f" and key[1:].isdigit():
        code = 0x01000030 + int(key[1:]) - 1  # Qt::Key_F1 ...
    else:
        code = _QT_NAMED[key]
    for modifier in combo.modifiers:
        code |= QT_MODIFIERS[modifier]
    return code


def present(conn: DBusConnection) -> bool:
    """kglobalaccel is on this session bus (a KDE session)."""
    from jeepney.bus_messages import message_bus

    try:
        reply = conn.send_and_get_reply(message_bus.NameHasOwner(BUS_NAME), timeout=CALL_TIMEOUT_S)
    except (OSError, TimeoutError):
        return False
    return bool(reply.body and reply.body[0])


def keys_of(conn: DBusConnection, component: str, action: str) -> list[int]:
    """The keys (Qt codes) kglobalaccel holds for the action; empty when it has none, or no such action."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.wrappers import DBusErrorResponse, unwrap_msg

    service = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=INTERFACE)
    try:
        call = new_method_call(service, "shortcut", "as", ([component, action, "", ""],))
        keys = unwrap_msg(conn.send_and_get_reply(call, timeout=CALL_TIMEOUT_S))[0]
    except (DBusErrorResponse, OSError, TimeoutError):
        return []
    return [int(k) for k in keys if k]


def ensure_action(conn: DBusConnection, component: str, action: str, description: str,
                  combo: Hotkey) -> list[int]:
    """Register `action` in `component` with `combo` as its key unless a key is stored for it already;
    the keys it has now (Qt codes; empty when kglobalaccel refused the key: another action holds it, and
    kglobalaccel answers [0])."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.wrappers import unwrap_msg

    service = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=INTERFACE)
    names = [component, action, "onevox", description]
    unwrap_msg(conn.send_and_get_reply(new_method_call(service, "doRegister", "as", (names,)),
                                       timeout=CALL_TIMEOUT_S))
    keys = unwrap_msg(conn.send_and_get_reply(
        new_method_call(service, "setShortcut", "asaiu", (names, [qt_key(combo)], SET_PRESENT)),
        timeout=CALL_TIMEOUT_S))[0]
    return [int(k) for k in keys if k]
