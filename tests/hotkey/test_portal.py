"""The GlobalShortcuts portal listener: key translation, and the whole D-Bus conversation against a test
double of the portal on a private bus (tests/support/fake_portal.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onevox.desktop.keys import parse_hotkey
from onevox.errors import HotkeyError
from onevox.hotkey.gesture import HotkeyGesture
from onevox.hotkey.portal import PortalHotkeyListener, portal_trigger
from onevox.hotkey.portal_session import APP_ID, portal_version
from tests.hotkey.recorder import Recorder
from tests.support.fake_portal import FakePortal, PrivateBus
from tests.support.requirements import require_program


@pytest.mark.parametrize(("spec", "trigger"), [
    ("ctrl+shift+space", "CTRL+SHIFT+space"),
    ("ctrl+alt+d", "CTRL+ALT+d"),
    ("super+f9", "LOGO+F9"),
    ("alt+shift+ctrl+super+enter", "CTRL+SHIFT+ALT+LOGO+Return"),
    ("meta+pgdn", "LOGO+Next"),
    ("f12", "F12"),
    ("ctrl+.", "CTRL+period"),
])
def test_trigger_in_the_xdg_shortcuts_syntax(spec: str, trigger: str) -> None:
    assert portal_trigger(parse_hotkey(spec)) == trigger


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[PrivateBus]:
    require_program("dbus-daemon")
    with PrivateBus.start(tmp_path) as b:
        yield b


class Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.event = threading.Event()

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        self.event.set()


def make(bus: PrivateBus, mode: str = "push-to-talk", trigger: str = "ctrl+alt+d",
         min_hold_ms: int = 0) -> tuple[PortalHotkeyListener, Recorder, Problems]:
    rec, problems = Recorder(), Problems()
    listener = PortalHotkeyListener(parse_hotkey(trigger), HotkeyGesture(mode, min_hold_ms), rec,
                                    on_problem=problems, address=bus.address, call_timeout=3.0)
    return listener, rec, problems


def test_push_to_talk_press_and_release(bus: PrivateBus) -> None:
    with FakePortal(bus.address) as portal:
        listener, rec, problems = make(bus)
        listener.start()
        session = listener.session_handle
        try:
            assert listener.ready.wait(5), problems.lines
            assert portal.calls.bound == [("dictate", {"description": "Dictate (onevox)",
                                                       "preferred_trigger": "CTRL+ALT+d"})]
            assert listener.bound_trigger == "Ctrl+Alt+D" and listener.version == 1
            portal.press()
            assert rec.wait_for(1) == ["start"]
            portal.press()  # a desktop that repeats Activated while the key is held
            portal.release()
            assert rec.wait_for(2) == ["start", "stop"]
            assert rec.settled() == ["start", "stop"]
        finally:
            listener.stop()
        assert problems.lines == []
        deadline = time.monotonic() + 3
        while not portal.calls.closed and time.monotonic() < deadline:
            time.sleep(0.02)
        assert portal.calls.closed == [session] and listener.session_handle == ""


def test_toggle_mode_and_sync(bus: PrivateBus) -> None:
    with FakePortal(bus.address) as portal:
        listener, rec, _problems = make(bus, mode="toggle")
        listener.start()
        try:
            assert listener.ready.wait(5)
            portal.press()
            portal.release()
            assert rec.wait_for(1) == ["start"]
            listener.sync(False)  # the dictation ended another way (IPC, max duration)
            portal.press()
            portal.release()
            assert rec.wait_for(2) == ["start", "start"]
            portal.press()
            assert rec.wait_for(3) == ["start", "start", "stop"]
        finally:
            listener.stop()


def test_short_press_is_cancelled_in_push_to_talk(bus: PrivateBus) -> None:
    with FakePortal(bus.address) as portal:
        listener, rec, _problems = make(bus, min_hold_ms=2000)
        listener.start()
        try:
            assert listener.ready.wait(5)
            portal.press()
            portal.release()
            assert rec.wait_for(2) == ["start", "cancel"]
        finally:
            listener.stop()


def test_signals_for_other_sessions_or_shortcuts_are_ignored(bus: PrivateBus) -> None:
    with FakePortal(bus.address) as portal:
        listener, rec, _problems = make(bus)
        listener.start()
        try:
            assert listener.ready.wait(5)
            portal.press("something-else")
            portal.press(session="/org/freedesktop/portal/desktop/session/x/other")
            assert rec.settled() == []
        finally:
            listener.stop()


def test_a_shortcut_the_portal_keeps_is_not_bound_again(bus: PrivateBus) -> None:
    with FakePortal(bus.address, known="dictate", trigger_description="Meta+D") as portal:
        listener, rec, _problems = make(bus)
        listener.start()
        try:
            assert listener.ready.wait(5)
            assert portal.calls.bound == [] and listener.bound_trigger == "Meta+D"
            assert "org.freedesktop.portal.GlobalShortcuts.BindShortcuts" not in portal.calls.methods
            portal.press()
            assert rec.wait_for(1) == ["start"]
        finally:
            listener.stop()


def test_the_app_id_is_registered_where_the_portal_has_a_registry(bus: PrivateBus) -> None:
    with FakePortal(bus.address, registry=True) as portal:
        listener, _rec, _problems = make(bus)
        listener.start()
        try:
            assert listener.ready.wait(5)
        finally:
            listener.stop()
        assert portal.calls.registered == [APP_ID]
        assert portal.calls.methods[0] == "org.freedesktop.host.portal.Registry.Register"


@pytest.mark.parametrize(("bind", "message"), [
    ("cancel", "was cancelled in the desktop's dialog"),
    ("error", "refused BindShortcuts (response 2)"),
])
def test_a_cancelled_or_refused_bind_is_one_clear_line(bus: PrivateBus, bind: str, message: str) -> None:
    with FakePortal(bus.address, bind=bind) as portal:
        listener, rec, problems = make(bus)
        listener.start()  # the session exists; the bind happens on the listener's thread
        try:
            assert problems.event.wait(5)
            assert len(problems.lines) == 1 and message in problems.lines[0], problems.lines
            assert "onevox toggle" in problems.lines[0]
            assert not listener.ready.is_set() and listener.problem == problems.lines[0]
            portal.press()
            assert rec.settled() == []
        finally:
            listener.stop()


def test_no_global_shortcuts_interface_fails_start(bus: PrivateBus) -> None:
    with FakePortal(bus.address, version=None):
        listener, _rec, _problems = make(bus)
        with pytest.raises(HotkeyError, match=r"offers no GlobalShortcuts .*GNOME 48"):
            listener.start()
        with pytest.raises(HotkeyError, match="offers no GlobalShortcuts"):
            portal_version(bus.address)


def test_no_portal_on_the_bus_fails_start(bus: PrivateBus) -> None:
    listener, _rec, _problems = make(bus)
    with pytest.raises(HotkeyError, match="no xdg-desktop-portal on the session bus"):
        listener.start()
    with pytest.raises(HotkeyError, match="no xdg-desktop-portal"):
        portal_version(bus.address)


def test_no_bus_fails_start(tmp_path: Path) -> None:
    listener = PortalHotkeyListener(parse_hotkey("ctrl+alt+d"), HotkeyGesture("toggle", 0), Recorder(),
                                    address=f"unix:path={tmp_path / 'nobus'}")
    with pytest.raises(HotkeyError, match="cannot reach the D-Bus session bus"):
        listener.start()


def test_the_portal_going_away_is_one_line_and_stop_still_works(bus: PrivateBus) -> None:
    with FakePortal(bus.address) as portal:
        listener, rec, problems = make(bus)
        listener.start()
        try:
            assert listener.ready.wait(5)
            portal.close_session()
            assert problems.event.wait(5)
            assert problems.lines == ["the desktop closed the GlobalShortcuts session; restart onevox (or "
                                      "reload its config) to bind the shortcut again"]
        finally:
            listener.stop()
    listener, rec, problems = make(bus)
    with FakePortal(bus.address):
        listener.start()
        assert listener.ready.wait(5)
    bus.stop()  # the session bus itself goes away
    try:
        assert problems.event.wait(5)
        assert problems.lines[0].startswith("the D-Bus session bus went away"), problems.lines
    finally:
        listener.stop()
    assert rec.commands == []


def test_auto_on_wayland_picks_the_portal_when_it_offers_global_shortcuts(
        bus: PrivateBus, monkeypatch: pytest.MonkeyPatch) -> None:
    from onevox.config import HotkeyConfig
    from onevox.hotkey import check_backends, create_listener

    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-1")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    with FakePortal(bus.address, version=2):
        assert check_backends(HotkeyConfig(), "wayland")[0] == ("portal", None)
        assert check_backends(HotkeyConfig(backend="portal"), "x11") == [("portal", None)]
        listener = create_listener(HotkeyConfig(), Recorder())
        assert listener is not None and listener.backend == "portal"
    (name, reason), *_ = check_backends(HotkeyConfig(), "wayland")  # the portal has gone
    assert name == "portal" and reason is not None and "no xdg-desktop-portal" in reason
    with pytest.raises(HotkeyError, match="no xdg-desktop-portal"):
        create_listener(HotkeyConfig(backend="portal"), Recorder())


def test_auto_on_wayland_without_the_interface_falls_through(
        bus: PrivateBus, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from onevox.config import HotkeyConfig
    from onevox.hotkey import check_backends, create_listener
    from onevox.hotkey import evdev as evdev_backend

    monkeypatch.setattr(evdev_backend, "INPUT_GLOB", str(tmp_path / "event*"))
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-1")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    with FakePortal(bus.address, version=None):
        assert create_listener(HotkeyConfig(), Recorder()) is None
        tried = check_backends(HotkeyConfig(), "wayland")
    assert [name for name, _ in tried] == ["portal", "evdev"]
    assert "offers no GlobalShortcuts" in str(tried[0][1])


def test_success_without_the_shortcut_is_ready_and_says_where_to_assign_it(
        bus: PrivateBus, caplog: pytest.LogCaptureFixture) -> None:
    """KDE 5.27's answer: BindShortcuts succeeds and lists nothing (the user assigns the key in System
    Settings); the listener waits for Activated all the same."""
    with FakePortal(bus.address, bind="empty") as portal:
        listener, rec, problems = make(bus)
        listener.start()
        try:
            assert listener.ready.wait(5)
            assert listener.bound_trigger == "" and problems.lines == []
            assert "System Settings > Shortcuts" in caplog.text
            assert listener.session_handle.endswith("/onevox")  # the same token on every start
            portal.press()
            assert rec.wait_for(1) == ["start"]
        finally:
            listener.stop()


@pytest.mark.parametrize(("spec", "code"), [
    ("ctrl+shift+f9", 0x04000000 | 0x02000000 | 0x01000038),
    ("super+d", 0x10000000 | 0x44),
    ("alt+space", 0x08000000 | 0x20),
    ("ctrl+alt+5", 0x04000000 | 0x08000000 | 0x35),
    ("pause", 0x01000008),
])
def test_trigger_as_a_qt_key_for_kglobalaccel(spec: str, code: int) -> None:
    from onevox.hotkey.kglobalaccel import qt_key

    assert qt_key(parse_hotkey(spec)) == code


def test_every_key_onevox_knows_has_a_qt_key() -> None:
    from onevox.desktop.keys import KEYS
    from onevox.hotkey.kglobalaccel import qt_key

    assert len({qt_key(parse_hotkey(name)) for name in KEYS}) == len(KEYS)
