"""The toggle hotkey stays in step when IPC starts or stops a dictation, and the daemon closes the injector it
built. The gesture and controller are real; the X11 test drives the real listener on Xvfb."""

from __future__ import annotations

from pathlib import Path

import pytest

from onevox.config import Config, DaemonConfig, HistoryConfig, HotkeyConfig, InjectionConfig, VadConfig
from onevox.daemon.app import Daemon
from onevox.daemon.stages import StageFactory
from onevox.hotkey.gesture import HotkeyGesture
from tests.daemon.conftest import EventLog
from tests.daemon.doubles import FakeInjector, FakeMic, FakeRecognizer
from tests.support.desktop import VirtualDesktop
from tests.support.requirements import require_tools
from tests.support.waiting import wait_until


def test_sync_makes_the_next_toggle_press_match_the_state() -> None:
    gesture = HotkeyGesture("toggle", 0)
    assert gesture.key_down(1.0) == "start"
    gesture.key_up(1.1)
    gesture.sync(False)  # IPC stopped the dictation
    assert gesture.key_down(2.0) == "start"  # not a "stop" that would do nothing
    gesture.key_up(2.1)
    gesture.sync(True)
    assert gesture.key_down(3.0) == "stop"


def _config(tmp_path: Path, **hotkey: str) -> Config:
    return Config(hotkey=HotkeyConfig(**hotkey), vad=VadConfig(backend="off"),
                  history=HistoryConfig(path=str(tmp_path / "history.sqlite3")),
                  daemon=DaemonConfig(socket=str(tmp_path / "run" / "d.sock")))


def test_the_daemon_closes_the_injector_it_built(tmp_path: Path) -> None:
    closed: list[str] = []

    class Closing(FakeInjector):
        def close(self) -> None:
            closed.append(self.name)

    class BuildsClosing(StageFactory):
        def injector(self, config: Config) -> Closing:
            return Closing()

    config = _config(tmp_path, backend="none").with_changes("injection", method="stdout")
    with Daemon(config, factory=BuildsClosing(source=FakeMic(), recognizer=FakeRecognizer()), ipc=False):
        assert closed == []
    assert closed == ["fake"]
    given = Closing()
    factory = StageFactory(source=FakeMic(), recognizer=FakeRecognizer(), injector=given)
    with Daemon(config, factory=factory, ipc=False):
        pass
    assert closed == ["fake"]  # one passed in belongs to the caller
    assert isinstance(config.injection, InjectionConfig)


@pytest.mark.e2e
def test_ipc_stop_keeps_the_x11_toggle_hotkey_in_step(tmp_path: Path) -> None:
    require_tools()
    with VirtualDesktop.start(tmp_path, repeat=False) as desktop, desktop.activated():
        config = _config(tmp_path, backend="x11", mode="toggle", trigger="ctrl+alt+d", cancel="escape")
        factory = StageFactory(source=FakeMic(), injector=FakeInjector(), recognizer=FakeRecognizer())
        with Daemon(config, factory=factory) as daemon:
            log = EventLog(daemon.bus)
            listener = daemon._hotkey
            try:
                assert daemon.commands.status()["hotkey"] == "x11"
                desktop.xdotool("key", "ctrl+alt+d")
                log.wait_for("recording_started")
                wait_until(lambda: listener._cancel_grabbed != [])
                assert daemon.controller.stop()["stopped"]  # the IPC route
                wait_until(lambda: daemon.controller.state in ("idle", "error"))
                wait_until(lambda: listener._cancel_grabbed == [])  # Escape is the user's again while idle
                desktop.xdotool("key", "ctrl+alt+d")  # must start a new dictation, not "stop" nothing
                log.wait_for("recording_started", lambda e: e["dictation"] == 2)
                assert daemon.controller.state == "recording"
                daemon.controller.cancel()  # IPC cancel while recording
                wait_until(lambda: listener._cancel_grabbed == [])
                desktop.xdotool("key", "ctrl+alt+d")
                log.wait_for("recording_started", lambda e: e["dictation"] == 3)
                daemon.controller.stop()
                wait_until(lambda: daemon.controller.state in ("idle", "error"))
                assert daemon.controller.start()["started"]  # IPC start: the cancel key works at once
                wait_until(lambda: listener._cancel_grabbed != [])
                desktop.xdotool("key", "Escape")
                log.wait_for("cancelled", lambda e: 4 in e["dictations"])
            finally:
                log.close()
