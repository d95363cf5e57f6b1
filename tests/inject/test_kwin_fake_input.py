"""KWin fake input without a compositor: the chord's key codes, the .desktop entry, the KDE check, and a
refusal that says what to install (tests/e2e/test_kde_injection.py drives a real headless KWin)."""

from __future__ import annotations

import os
import socket
import struct
import threading
from pathlib import Path

import pytest

from onevox.desktop.keys import parse_hotkey
from onevox.errors import InjectionError
from onevox.inject.kwin_fake_input import FakeInput, chord_codes, desktop_entry, install_desktop_entry, is_kde


def test_chord_codes_are_evdev_codes_modifiers_first() -> None:
    assert chord_codes(parse_hotkey("ctrl+v")) == [29, 47]
    assert chord_codes(parse_hotkey("shift+ctrl+v")) == [29, 42, 47]
    assert chord_codes(parse_hotkey("shift+insert")) == [42, 110]


@pytest.mark.parametrize(("desktop", "kde"), [("KDE", True), ("kde", True), ("X-Generic:KDE", True),
                                              ("GNOME", False), ("", False), ("KDEish", False)])
def test_is_kde(desktop: str, kde: bool) -> None:
    assert is_kde({"XDG_CURRENT_DESKTOP": desktop}) is kde


def test_desktop_entry_names_the_resolved_interpreter(tmp_path: Path) -> None:
    link = tmp_path / "python"
    link.symlink_to(os.path.realpath("/bin/sh"))
    entry = desktop_entry(str(link))
    assert f"Exec={os.path.realpath('/bin/sh')} -m onevox\n" in entry
    assert "X-KDE-Wayland-Interfaces=org_kde_kwin_fake_input\n" in entry
    path = install_desktop_entry(tmp_path / "home", str(link))
    assert path == tmp_path / "home/.local/share/applications/onevox-kwin-fake-input.desktop"
    assert path.read_text(encoding="utf-8") == entry


def _fake_compositor(path: Path) -> threading.Thread:
    """Answers one client: announces one unrelated global, then ends every wl_display.sync."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with conn, server:
            buf = b""
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                buf += data
                while len(buf) >= 8:
                    obj, word = struct.unpack_from("<II", buf)
                    size, opcode = word >> 16, word & 0xFFFF
                    if len(buf) < size:
                        break
                    body, buf = buf[8:size], buf[size:]
                    if obj == 1 and opcode == 1:  # get_registry
                        registry = struct.unpack_from("<I", body)[0]
                        name = b"wl_seat\0\0"
                        payload = struct.pack("<II", 7, 8) + name + struct.pack("<I", 7)
                        conn.sendall(struct.pack("<II", registry, (8 + len(payload)) << 16) + payload)
                    elif obj == 1 and opcode == 0:  # sync -> callback.done
                        callback = struct.unpack_from("<I", body)[0]
                        conn.sendall(struct.pack("<III", callback, 12 << 16, 0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_refusal_says_which_desktop_file_is_needed(tmp_path: Path) -> None:
    thread = _fake_compositor(tmp_path / "wl")
    with pytest.raises(InjectionError, match="X-KDE-Wayland-Interfaces=org_kde_kwin_fake_input"):
        FakeInput({"XDG_RUNTIME_DIR": str(tmp_path), "WAYLAND_DISPLAY": "wl"})
    thread.join(timeout=5)


def test_no_compositor_is_an_injection_error(tmp_path: Path) -> None:
    with pytest.raises(InjectionError, match="cannot reach the Wayland display"):
        FakeInput({"XDG_RUNTIME_DIR": str(tmp_path), "WAYLAND_DISPLAY": "missing"})
