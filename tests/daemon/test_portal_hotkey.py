"""The daemon with the GlobalShortcuts portal hotkey, against the test double of the portal on a private bus:
Activated / Deactivated start and stop a dictation through the real gesture and controller; a bind the user
cancels leaves one line in status and the daemon running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onevox.config import Config, DaemonConfig, HistoryConfig, HotkeyConfig, VadConfig
from onevox.daemon.app import Daemon
from onevox.daemon.stages import StageFactory
from tests.daemon.conftest import EventLog
from tests.daemon.doubles import FakeInjector, FakeMic, FakeRecognizer
from tests.support.fake_portal import FakePortal, PrivateBus
from tests.support.requirements import require_program
from tests.support.waiting import wait_until


@pytest.fixture
def bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateBus]:
    require_program("dbus-daemon")
    with PrivateBus.start(tmp_path) as b:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", b.address)
        yield b


def _config(tmp_path: Path, **hotkey: Any) -> Config:
    return Config(hotkey=HotkeyConfig(backend="portal", trigger="ctrl+alt+d", **hotkey),
                  vad=VadConfig(backend="off"), history=HistoryConfig(path=str(tmp_path / "history.sqlite3")),
                  daemon=DaemonConfig(socket=str(tmp_path / "run" / "d.sock")))


def _factory() -> StageFactory:
    return StageFactory(source=FakeMic(), injector=FakeInjector(), recognizer=FakeRecognizer(["hello"]))


def test_press_and_release_drive_a_dictation(tmp_path: Path, bus: PrivateBus) -> None:
    with FakePortal(bus.address) as portal, Daemon(_config(tmp_path, min_hold_ms=0), factory=_factory(),
                                                   ipc=False) as daemon:
        log = EventLog(daemon.bus)
        try:
            assert daemon.commands.status()["hotkey"] == "portal"
            wait_until(lambda: portal.calls.bound != [])
            assert portal.calls.bound[0][1]["preferred_trigger"] == "CTRL+ALT+d"
            portal.press()
            log.wait_for("recording_started")
            assert daemon.controller.state == "recording"
            portal.release()
            wait_until(lambda: daemon.controller.state != "recording")
        finally:
            log.close()


def test_a_cancelled_bind_is_one_line_in_status_and_ipc_still_works(tmp_path: Path, bus: PrivateBus) -> None:
    with FakePortal(bus.address, bind="cancel"), Daemon(_config(tmp_path), factory=_factory(),
                                                        ipc=False) as daemon:
        wait_until(lambda: daemon.commands.status()["last_error"] != "")
        status = daemon.commands.status()
        assert status["hotkey"] == "none", status
        assert status["last_error"].startswith("hotkey: the dictation shortcut was not set up: "
                                               "BindShortcuts was cancelled in the desktop's dialog")
        assert daemon.controller.start()["started"] is True
