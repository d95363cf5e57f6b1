"""The real xdg-desktop-portal (1.16 here) on a desktop whose portal backends offer no GlobalShortcuts, as
on GNOME before 48 (Debian 12's GNOME 43): the portal runs, and the hotkey says in one line why it cannot
use it. The frontend is given an empty portals folder (XDG_DESKTOP_PORTAL_DIR), so no backend at all:
on this machine GNOME's own backend is not installed, and 1.16 would otherwise fall back to KDE's."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

from onevox.config import HotkeyConfig
from onevox.desktop.keys import parse_hotkey
from onevox.desktop.portal_requests import BUS_NAME
from onevox.errors import HotkeyError
from onevox.hotkey import check_backends, create_listener
from onevox.hotkey import evdev as evdev_backend
from onevox.hotkey.gesture import HotkeyGesture
from onevox.hotkey.portal import PortalHotkeyListener
from tests.hotkey.recorder import Recorder
from tests.support.fake_portal import PrivateBus
from tests.support.kde import portal_program
from tests.support.requirements import INSTALL_HINT, require_program

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateBus]:
    require_program("dbus-daemon")
    program = portal_program("xdg-desktop-portal")
    if program is None:
        pytest.fail(f"xdg-desktop-portal is not installed; {INSTALL_HINT}")
    (tmp_path / "portals").mkdir()
    with PrivateBus.start(tmp_path) as b:
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": b.address, "XDG_CURRENT_DESKTOP": "GNOME",
               "XDG_DESKTOP_PORTAL_DIR": str(tmp_path / "portals")}
        with open(tmp_path / "xdp.log", "wb") as log:
            portal = subprocess.Popen([program], env=env, stdin=subprocess.DEVNULL, stdout=log,
                                      stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            while not owned(b.address):
                alive = portal.poll() is None and time.monotonic() < deadline
                assert alive, (tmp_path / "xdp.log").read_text()
                time.sleep(0.05)
            monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", b.address)
            monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-1")
            monkeypatch.setattr(evdev_backend, "INPUT_GLOB", str(tmp_path / "event*"))
            yield b
        finally:
            portal.terminate()
            portal.wait(timeout=5)


def owned(address: str) -> bool:
    with open_dbus_connection(address) as conn:
        return bool(conn.send_and_get_reply(message_bus.NameHasOwner(BUS_NAME), timeout=2).body[0])


def test_the_listener_and_doctor_say_the_portal_has_no_global_shortcuts(bus: PrivateBus) -> None:
    listener = PortalHotkeyListener(parse_hotkey("ctrl+alt+d"), HotkeyGesture("toggle", 0), Recorder(),
                                    address=bus.address)
    with pytest.raises(HotkeyError) as raised:
        listener.start()
    assert str(raised.value) == ("this desktop's portal offers no GlobalShortcuts (it needs KDE Plasma "
                                 "5.27+, GNOME 48+ or Hyprland's portal)")
    tried = check_backends(HotkeyConfig(), "wayland")
    assert tried[0] == ("portal", str(raised.value))
    assert create_listener(HotkeyConfig(), Recorder()) is None  # auto goes on to evdev, then to none
