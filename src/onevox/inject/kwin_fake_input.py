"""Pressing keys on KDE Plasma (KWin on Wayland) through KWin's `org_kde_kwin_fake_input` protocol.

KWin 5.27 offers no zwp_virtual_keyboard_v1 to ordinary clients (wtype: "Compositor does not support the
virtual keyboard protocol"), so the paste method presses its paste keys through fake input instead, while
wl-copy owns the clipboard (KWin has zwlr_data_control_manager_v1). Text therefore arrives exact whatever
the keyboard layout: fake input sends evdev key codes, which only the paste chord needs.

KWin offers fake input only to a client it has authorised: the executable of the connecting process (its
/proc/PID/exe, e.g. /usr/bin/python3.11) must be the first word of `Exec=` of an installed .desktop file that
lists the interface under `X-KDE-Wayland-Interfaces=`. KWin reads that when it starts, so a session started
before the file was installed needs a new login. `desktop_entry()` writes such a file. Measured on headless
KWin 5.27.5 (tests/support/kde.py); the protocol needs no library: it is a few messages on the Wayland
socket, written here directly.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from onevox.desktop.keys import MODIFIER_KEYS, MODIFIER_ORDER, Hotkey
from onevox.errors import InjectionError

INTERFACE = "org_kde_kwin_fake_input"
VERSION = 4  # keyboard_key arrived in version 4
REQ_AUTHENTICATE = 0
REQ_KEYBOARD_KEY = 10
DISPLAY_ID = 1
PRESSED, RELEASED = 1, 0
TIMEOUT_S = 2.0
DESKTOP_FILE = "onevox-kwin-fake-input.desktop"


def is_kde(environ: Mapping[str, str] | None = None) -> bool:
    """XDG_CURRENT_DESKTOP names KDE (Plasma sets "KDE")."""
    env = os.environ if environ is None else environ
    return "kde" in env.get("XDG_CURRENT_DESKTOP", "").lower().split(":")


def desktop_entry(executable: str | None = None) -> str:
    """The .desktop file that lets `executable` (default: this Python, resolved as KWin sees it) use fake
    input; install it as ~/.local/share/applications/onevox-kwin-fake-input.desktop and log in again."""
    exe = os.path.realpath(executable or sys.executable)
    return ("[Desktop Entry]\nType=Application\nName=onevox (KWin fake input)\nNoDisplay=true\n"
            f"Exec={exe} -m onevox\nX-KDE-Wayland-Interfaces={INTERFACE}\n")


def evdev_code(name: str) -> int:
    from evdev import ecodes

    return int(ecodes.ecodes[name])


def chord_codes(combo: Hotkey) -> list[int]:
    """The evdev codes to press, in order (modifiers first), for `combo`; released in reverse."""
    mods = [evdev_code(MODIFIER_KEYS[m][1][0]) for m in MODIFIER_ORDER if m in combo.modifiers]
    return [*mods, evdev_code(combo.names.evdev)]


def _string(text: str) -> bytes:
    data = text.encode() + b"\0"
    return struct.pack("<I", len(data)) + data + b"\0" * (-len(data) % 4)


class FakeInput:
    """One Wayland connection with fake input bound and authenticated; InjectionError when KWin refuses."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        runtime, display = env.get("XDG_RUNTIME_DIR", ""), env.get("WAYLAND_DISPLAY", "wayland-0")
        path = display if display.startswith("/") else os.path.join(runtime, display)
        self._buf = b""
        self._next_id = 2
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT_S)
        try:
            try:
                self.sock.connect(path)
            except OSError as exc:
                raise InjectionError(
                    f"KWin fake input: cannot reach the Wayland display {path} ({exc})") from exc
            self.device = self._bind()
        except BaseException:
            self.sock.close()
            raise

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _send(self, obj: int, opcode: int, payload: bytes = b"") -> None:
        try:
            self.sock.sendall(struct.pack("<II", obj, ((8 + len(payload)) << 16) | opcode) + payload)
        except OSError as exc:
            raise InjectionError(f"KWin fake input: the Wayland connection failed ({exc})") from exc

    def _events(self) -> Iterator[tuple[int, int, bytes]]:
        while True:
            while len(self._buf) >= 8:
                obj, word = struct.unpack_from("<II", self._buf)
                size = word >> 16
                if size < 8 or len(self._buf) < size:
                    break
                body, self._buf = self._buf[8:size], self._buf[size:]
                yield obj, word & 0xFFFF, body
            try:
                data = self.sock.recv(65536)
            except OSError as exc:
                raise InjectionError(f"KWin fake input: no answer from the compositor ({exc})") from exc
            if not data:
                raise InjectionError("KWin fake input: the compositor closed the connection")
            self._buf += data

    def roundtrip(self, globals_of: int | None = None) -> dict[str, tuple[int, int]]:
        """wl_display.sync and wait for it (every request before it has been handled); with `globals_of`
        (a wl_registry id), the globals announced meanwhile: interface -> (name, version)."""
        callback = self._new_id()
        self._send(DISPLAY_ID, 0, struct.pack("<I", callback))
        found: dict[str, tuple[int, int]] = {}
        for obj, opcode, body in self._events():
            if obj == DISPLAY_ID and opcode == 0:  # wl_display.error
                _, code, length = struct.unpack_from("<III", body)
                raise InjectionError(f"KWin fake input: protocol error {code}: "
                                     f"{body[12:12 + length - 1].decode(errors='replace')}")
            if obj == callback and opcode == 0:
                return found
            if obj == globals_of and opcode == 0:  # wl_registry.global
                name, length = struct.unpack_from("<II", body)
                interface = body[8:8 + length - 1].decode(errors="replace")
                found[interface] = (name, struct.unpack_from("<I", body, 8 + length + (-length % 4))[0])
        raise AssertionError("unreachable: _events() ends only by raising")

    def _bind(self) -> int:
        registry = self._new_id()
        self._send(DISPLAY_ID, 1, struct.pack("<I", registry))
        found = self.roundtrip(globals_of=registry)
        if INTERFACE not in found:
            raise InjectionError(
                f"KWin does not offer {INTERFACE} to {os.path.realpath(sys.executable)}: it needs a "
                f".desktop file whose Exec= starts with that program and that lists "
                f"X-KDE-Wayland-Interfaces={INTERFACE} (~/.local/share/applications/{DESKTOP_FILE}), then a "
                f"new login; or this is not KWin")
        name, version = found[INTERFACE]
        if version < VERSION:
            raise InjectionError(f"KWin's {INTERFACE} is version {version}; pressing keys needs {VERSION}")
        device = self._new_id()
        bind = struct.pack("<I", name) + _string(INTERFACE) + struct.pack("<II", VERSION, device)
        self._send(registry, 0, bind)
        self._send(device, REQ_AUTHENTICATE, _string("onevox") + _string("types dictated text"))
        self.roundtrip()
        return device

    def press(self, combo: Hotkey) -> None:
        """Press `combo` and release it (reverse order), and wait until KWin has handled it."""
        codes = chord_codes(combo)
        for code in codes:
            self._send(self.device, REQ_KEYBOARD_KEY, struct.pack("<II", code, PRESSED))
        for code in reversed(codes):
            self._send(self.device, REQ_KEYBOARD_KEY, struct.pack("<II", code, RELEASED))
        self.roundtrip()

    def down(self, combo: Hotkey) -> None:
        """Press `combo`'s keys (modifiers first) and hold them, until up(combo)."""
        for code in chord_codes(combo):
            self._send(self.device, REQ_KEYBOARD_KEY, struct.pack("<II", code, PRESSED))
        self.roundtrip()

    def up(self, combo: Hotkey) -> None:
        """Release `combo`'s keys, in reverse order."""
        for code in reversed(chord_codes(combo)):
            self._send(self.device, REQ_KEYBOARD_KEY, struct.pack("<II", code, RELEASED))
        self.roundtrip()

    def close(self) -> None:
        self.sock.close()


def install_desktop_entry(home: Path, executable: str | None = None) -> Path:
    """Write desktop_entry() under `home`/.local/share/applications; returns its path."""
    path = home / ".local" / "share" / "applications" / DESKTOP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(desktop_entry(executable), encoding="utf-8")
    return path
