"""The daemon in-process: stages wired from the config, a real IPC server on a temporary socket, shutdown."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from onevox.config import Config, DaemonConfig, HistoryConfig, HotkeyConfig, ModelConfig, VadConfig
from onevox.daemon.app import Daemon
from onevox.daemon.run import run_daemon
from onevox.daemon.stages import StageFactory
from onevox.ipc.client import DaemonNotRunning, IpcClient
from tests.daemon.conftest import WAIT_S
from tests.daemon.doubles import (
    SPEECH_LEVEL,
    FakeClock,
    FakeInjector,
    FakeMic,
    FakeRecognizer,
    play,
    virtual_mic,
)
from tests.support.waiting import wait_until


def _config(tmp_path: Path, **daemon: str) -> Config:
    return Config(hotkey=HotkeyConfig(backend="none"), vad=VadConfig(backend="off"),
                  history=HistoryConfig(path=str(tmp_path / "history.sqlite3")),
                  daemon=DaemonConfig(socket=str(tmp_path / "run" / "d.sock"), **daemon))


class Running:
    def __init__(self, daemon: Daemon, mic: FakeMic, clock: FakeClock, injector: FakeInjector) -> None:
        self.daemon, self.mic, self.clock, self.injector = daemon, mic, clock, injector
        self.config, self.bus = daemon.config, daemon.bus


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    mic, clock = virtual_mic()
    injector = FakeInjector()
    factory = StageFactory(source=mic, injector=injector, recognizer=FakeRecognizer(["over the socket"]))
    daemon = Daemon(_config(tmp_path, trace_path=str(tmp_path / "trace.json")), factory=factory, clock=clock)
    daemon.start()
    yield Running(daemon, mic, clock, injector)
    daemon.stop()


def test_status_over_ipc_says_ready(running: Running) -> None:
    status = IpcClient(running.config.socket_path()).request("status")
    assert status["ready"] is True and status["state"] == "idle"
    assert status["model"] == "fake-model" and status["device"] == "fake-mic"
    assert status["hotkey"] == "none" and status["history"] is True


def test_a_dictation_driven_over_ipc_streams_its_events(running: Running) -> None:
    client = IpcClient(running.config.socket_path())
    events: list[dict] = []
    subscribed = threading.Event()
    others = running.bus.subscriber_count  # the daemon's own (the feedback runner's)

    def listen() -> None:
        stream = client.events()
        subscribed.set()
        for event in stream:
            events.append(event)
            if event["event"] == "injected":
                return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert subscribed.wait(WAIT_S)
    wait_until(lambda: running.bus.subscriber_count == others + 1)
    assert client.request("start_dictation")["started"] is True
    running.mic.wait_begun(1)
    play(running.mic, running.clock, SPEECH_LEVEL, 0.3)
    assert client.request("stop_dictation")["stopped"] is True
    listener.join(WAIT_S)
    kinds = [e["event"] for e in events]
    for kind in ("recording_started", "recording_stopped", "transcribed", "injected"):
        assert kind in kinds
    transcribed = next(e for e in events if e["event"] == "transcribed")
    assert "over the socket" in transcribed["text"].lower() and transcribed["v"] == 1
    assert "inference" in transcribed["timings"]
    assert running.injector.texts == [transcribed["text"]]


def test_shutdown_over_ipc_ends_wait_and_stop_removes_the_socket(tmp_path: Path) -> None:
    config = _config(tmp_path, trace_path=str(tmp_path / "trace.json"))
    mic = FakeMic()
    factory = StageFactory(source=mic, injector=FakeInjector(), recognizer=FakeRecognizer())
    daemon = Daemon(config, factory=factory)
    daemon.start()
    assert mic.started
    assert daemon.wait(0) is False
    assert IpcClient(config.socket_path()).request("shutdown") == {"shutting_down": True}
    assert daemon.wait(WAIT_S) is True
    daemon.stop()
    assert mic.closed and not config.socket_path().exists()
    with pytest.raises(DaemonNotRunning):
        IpcClient(config.socket_path()).request("status")
    trace = json.loads((tmp_path / "trace.json").read_text())
    assert "daemon_start" in {e["name"] for e in trace["traceEvents"] if e["ph"] == "X"}
    daemon.stop()  # twice is harmless


def test_history_off_writes_nothing(tmp_path: Path) -> None:
    config = _config(tmp_path).with_changes("history", enabled=False)
    factory = StageFactory(source=FakeMic(), injector=FakeInjector(), recognizer=FakeRecognizer())
    with Daemon(config, factory=factory, ipc=False) as daemon:
        assert daemon.commands.status()["history"] is False
    assert not (tmp_path / "history.sqlite3").exists()


def test_a_failed_start_cleans_up(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    config = _config(tmp_path).with_changes("daemon", socket=str(blocker / "d.sock"))
    mic = FakeMic()
    factory = StageFactory(source=mic, injector=FakeInjector(), recognizer=FakeRecognizer())
    daemon = Daemon(config, factory=factory)
    with pytest.raises(Exception, match="socket"):
        daemon.start()
    assert mic.closed


def test_run_daemon_calls_ready_and_returns_on_shutdown(tmp_path: Path) -> None:
    recognizer = FakeRecognizer()
    loaded: list[str] = []

    def load(model: ModelConfig) -> FakeRecognizer:
        loaded.append(model.name)
        return recognizer

    config = _config(tmp_path)
    ready = threading.Event()
    finished = threading.Event()

    def serve() -> None:
        factory = StageFactory(source=FakeMic(), injector=FakeInjector(), load_model=load)
        run_daemon(config, factory=factory, ready=ready.set)
        finished.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(WAIT_S)
    assert IpcClient(config.socket_path()).request("status")["ready"] is True
    IpcClient(config.socket_path()).request("shutdown")
    assert finished.wait(WAIT_S)
    assert loaded == [config.model.name] and recognizer.warmed  # loaded and warmed once, through the factory
    assert not config.socket_path().exists()


def test_no_display_means_no_hotkey_but_the_daemon_runs(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    config = _config(tmp_path).with_changes("hotkey", backend="x11")
    factory = StageFactory(source=FakeMic(), injector=FakeInjector(), recognizer=FakeRecognizer())
    with Daemon(config, factory=factory) as daemon:
        status = IpcClient(config.socket_path()).request("status")
        assert status["ready"] is True and status["hotkey"] == "none"
        assert status["last_error"].startswith("hotkey:") and "onevox toggle" in status["last_error"]
        assert daemon.controller.start()["started"] is True


def test_an_unusable_history_file_does_not_stop_dictation(tmp_path: Path) -> None:
    bad = tmp_path / "history.sqlite3"
    bad.write_bytes(b"garbage, not a database" * 50)
    injector = FakeInjector()
    mic, clock = virtual_mic()
    factory = StageFactory(source=mic, injector=injector, recognizer=FakeRecognizer(["kept typing"]))
    with Daemon(_config(tmp_path), factory=factory, ipc=False, clock=clock) as daemon:
        status = daemon.commands.status()
        assert status["history"] is False and "history" in status["last_error"]
        daemon.controller.start()
        mic.wait_begun(1)
        play(mic, clock, SPEECH_LEVEL, 0.2)
        daemon.controller.stop()
        wait_until(lambda: len(injector.texts) == 1)


class SeenEvents:
    """A feedback part that keeps the kinds of the events it is handed."""

    name = "seen"

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.closed = False

    @property
    def running(self) -> bool:
        return not self.closed

    def start(self) -> None:
        pass

    def handle(self, event: dict) -> None:
        self.kinds.append(event["event"])

    def close(self) -> None:
        self.closed = True


def test_the_feedback_parts_follow_a_dictation(tmp_path: Path) -> None:
    mic, clock = virtual_mic()
    seen = SeenEvents()
    factory = StageFactory(source=mic, injector=FakeInjector(), recognizer=FakeRecognizer(["shown"]),
                           feedback=[seen])
    daemon = Daemon(_config(tmp_path), factory=factory, clock=clock, ipc=False)
    daemon.start()
    try:
        assert daemon.feedback == ("seen",) and daemon.commands.status()["feedback"] == ["seen"]
        assert daemon.controller.start()["started"]
        mic.wait_begun(1)
        play(mic, clock, SPEECH_LEVEL, 0.3)
        daemon.controller.stop()
        wait_until(lambda: "injected" in seen.kinds)
    finally:
        daemon.stop()
    assert seen.closed and daemon.feedback == () and daemon.diagnostics.fields()["feedback"] == []
    kinds = [k for k in seen.kinds if k in ("recording_started", "recording_stopped", "transcribed")]
    assert kinds == ["recording_started", "recording_stopped", "transcribed"]
