"""The daemon with [injection] method = "portal" against the RemoteDesktop portal double on a private bus:
consent is asked in the first run only (the restore token carries it to the second), and a consent dialog
left open does not hold up the daemon's control path."""

from __future__ import annotations

import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onevox.config import Config, DaemonConfig, HistoryConfig, HotkeyConfig, InjectionConfig, VadConfig
from onevox.daemon.app import Daemon
from onevox.daemon.stages import StageFactory
from onevox.inject.portal_token import default_token_path
from tests.daemon.doubles import SPEECH_LEVEL, FakeRecognizer, play, virtual_mic
from tests.support.fake_portal import PrivateBus
from tests.support.fake_remote_desktop import FakeRemoteDesktop
from tests.support.requirements import require_program
from tests.support.waiting import wait_until


@pytest.fixture
def bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateBus]:
    require_program("dbus-daemon")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with PrivateBus.start(tmp_path) as b:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", b.address)
        yield b


def _config(tmp_path: Path) -> Config:
    return Config(hotkey=HotkeyConfig(backend="none"), vad=VadConfig(backend="off"),
                  injection=InjectionConfig(method="portal"),
                  history=HistoryConfig(path=str(tmp_path / "history.sqlite3")),
                  daemon=DaemonConfig(socket=str(tmp_path / "run" / "d.sock")))


def dictate(tmp_path: Path, portal: FakeRemoteDesktop, said: str) -> dict[str, object]:
    """One daemon run with one dictation of `said`; its status once the text is typed."""
    mic, clock = virtual_mic()
    factory = StageFactory(source=mic, recognizer=FakeRecognizer([said]))
    before = portal.typed()
    with Daemon(_config(tmp_path), factory=factory, ipc=False, clock=clock) as daemon:
        daemon.controller.start()
        mic.wait_begun(1)
        play(mic, clock, SPEECH_LEVEL, 0.2)
        daemon.controller.stop()
        wait_until(lambda: portal.typed() != before, timeout=10)
        wait_until(lambda: daemon.controller.state == "idle", timeout=10)
        return daemon.commands.status()


def test_consent_is_asked_in_the_first_run_only(tmp_path: Path, bus: PrivateBus) -> None:
    with FakeRemoteDesktop(bus.address) as portal:
        status = dictate(tmp_path, portal, "first run")
        assert status["injector"] == "portal" and portal.consents == 1
        token = default_token_path()
        assert token.read_text() == "restore-1\n" and stat.S_IMODE(token.stat().st_mode) == 0o600
        assert token.parent == tmp_path / "state" / "onevox"
        dictate(tmp_path, portal, "second run")
        assert portal.consents == 1
        assert portal.rd.selected[1] == {"types": 1, "persist_mode": 2, "restore_token": "restore-1"}
        assert token.read_text() == "restore-2\n"
        assert portal.typed().lower().startswith("first run")
        assert "second run" in portal.typed().lower()


def test_an_open_consent_dialog_does_not_hold_up_the_control_path(tmp_path: Path, bus: PrivateBus) -> None:
    with FakeRemoteDesktop(bus.address, start_delay=2.0) as portal:
        mic, clock = virtual_mic()
        factory = StageFactory(source=mic, recognizer=FakeRecognizer(["after consent"]))
        with Daemon(_config(tmp_path), factory=factory, ipc=False, clock=clock) as daemon:
            daemon.controller.start()
            mic.wait_begun(1)
            play(mic, clock, SPEECH_LEVEL, 0.2)
            daemon.controller.stop()
            wait_until(lambda: portal.rd.started != [], timeout=10)  # the dialog is up
            t0 = time.monotonic()
            status = daemon.commands.status()
            assert time.monotonic() - t0 < 0.5 and status["ready"] is True
            assert portal.typed() == ""
            wait_until(lambda: portal.typed().lower().startswith("after consent"), timeout=10)  # allowed


def test_a_cancelled_dialog_is_one_line_in_status(tmp_path: Path, bus: PrivateBus) -> None:
    with FakeRemoteDesktop(bus.address, start="cancel") as portal:
        mic, clock = virtual_mic()
        factory = StageFactory(source=mic, recognizer=FakeRecognizer(["not typed"]))
        with Daemon(_config(tmp_path), factory=factory, ipc=False, clock=clock) as daemon:
            daemon.controller.start()
            mic.wait_begun(1)
            play(mic, clock, SPEECH_LEVEL, 0.2)
            daemon.controller.stop()
            wait_until(lambda: daemon.commands.status()["last_error"] != "", timeout=10)
            error = str(daemon.commands.status()["last_error"])
        assert "typing through the RemoteDesktop portal was not allowed (Start cancelled in the desktop's " \
               "dialog); restart onevox to be asked again" in error, error
        assert "\n" not in error and portal.rd.keys == [] and portal.consents == 1
