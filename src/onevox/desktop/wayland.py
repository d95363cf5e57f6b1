"""Which Wayland protocols the compositor offers: `wayland_globals(socket)` connects to the display as any
client does, asks for the registry, and returns the interface names it announces (the wire protocol spoken
directly: a few bytes each way, no library needed). Nothing is bound, no surface is made.

That tells, for instance, whether `wtype` can work: it needs zwp_virtual_keyboard_manager_v1, which wlroots
compositors (sway, Hyprland, river) offer and GNOME's Mutter does not.
"""

from __future__ import annotations

import socket as socketlib
import struct
import time

VIRTUAL_KEYBOARD = "zwp_virtual_keyboard_manager_v1"
PROBE_TIMEOUT_S = 1.0
_DISPLAY, _REGISTRY, _CALLBACK = 1, 2, 3  # the object ids this client creates


def _request(obj: int, opcode: int, *args: int) -> bytes:
    size = 8 + 4 * len(args)
    return struct.pack(f"=II{len(args)}I", obj, (size << 16) | opcode, *args)


def parse_globals(data: bytes) -> tuple[list[str], bool, str | None]:
    """The interfaces announced in `data` (events from the display), whether the sync's callback came
    (the list is then complete), and a protocol error's message if the display sent one."""
    names: list[str] = []
    offset = 0
    while offset + 8 <= len(data):
        obj, word = struct.unpack_from("=II", data, offset)
        size, opcode = word >> 16, word & 0xFFFF
        if size < 8 or offset + size > len(data):
            break
        body = data[offset + 8:offset + size]
        offset += size
        # wl_registry.global(name, interface, version)
        if obj == _REGISTRY and opcode == 0 and len(body) >= 8:
            (length,) = struct.unpack_from("=I", body, 4)
            names.append(body[8:8 + length].rstrip(b"\0").decode("utf-8", "replace"))
        elif obj == _CALLBACK and opcode == 0:  # wl_callback.done
            return names, True, None
        elif obj == _DISPLAY and opcode == 0:  # wl_display.error(object, code, message)
            return names, False, body[12:].rstrip(b"\0").decode("utf-8", "replace")
    return names, False, None


def wayland_globals(path: str, timeout: float = PROBE_TIMEOUT_S) -> tuple[str, ...] | None:
    """The global interfaces the compositor at socket `path` announces, sorted; None when that cannot be
    learnt (no socket, no answer in time, a protocol error)."""
    deadline = time.monotonic() + timeout
    try:
        with socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            # wl_display.get_registry(new_id 2), then wl_display.sync(new_id 3): done comes after every global
            sock.sendall(_request(_DISPLAY, 1, _REGISTRY) + _request(_DISPLAY, 0, _CALLBACK))
            data = b""
            while True:
                names, done, error = parse_globals(data)
                if done:
                    return tuple(sorted(set(names)))
                if error is not None:
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                sock.settimeout(left)
                chunk = sock.recv(65536)
                if not chunk:
                    return None
                data += chunk
    except OSError:  # no socket, refused, a timeout
        return None
