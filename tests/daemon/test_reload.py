"""Config reload in a running in-process daemon: real config files, the real watcher and the real apply path;
the microphone, model and window are test doubles (the process-level reload is in tests/faults)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onevox.config import load_config
from onevox.daemon.app import Daemon
from onevox.daemon.reload import ConfigWatcher, changed_keys
from onevox.daemon.stages import StageFactory
from onevox.ipc.client import IpcClient
from tests.daemon.conftest import WAIT_S, EventLog
from tests.daemon.doubles import (
    SPEECH_LEVEL,
    FakeClock,
    FakeInjector,
    FakeMic,
    FakeRecognizer,
    play,
    virtual_mic,
)
from tests.support.daemon_proc import toml_config
from tests.support.waiting import wait_until


def _sections(tmp_path: Path, **extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    sections: dict[str, dict[str, Any]] = {
        "hotkey": {"backend": "none"}, "vad": {"backend": "off"},
        "history": {"path": str(tmp_path / "history.sqlite3")},
        "daemon": {"socket": str(tmp_path / "run" / "d.sock")},
        "post_processing": {"trailing_space": False},
    }
    for section, values in extra.items():
        sections.setdefault(section, {}).update(values)
    return sections


def _write(path: Path, sections: dict[str, dict[str, Any]]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(toml_config(sections), encoding="utf-8")
    tmp.replace(path)


class Running:
    def __init__(self, daemon: Daemon, path: Path, log: EventLog, clock: FakeClock) -> None:
        self.daemon, self.path, self.log, self.clock = daemon, path, log, clock

    def dictate(self) -> str:
        stages = self.daemon.controller.stages
        mic, injector = stages.source, stages.injector
        assert isinstance(mic, FakeMic) and isinstance(injector, FakeInjector)
        count = len(injector.texts)
        assert self.daemon.controller.start()["started"]
        mic.wait_begun(len(mic.begins) + 1)
        play(mic, self.clock, SPEECH_LEVEL, 0.3)
        play(mic, self.clock, 0.0, 0.1)
        self.daemon.controller.stop()
        wait_until(lambda: len(injector.texts) > count)
        return injector.texts[-1]


def _start(tmp_path: Path, sections: dict[str, dict[str, Any]], **given: Any) -> Running:
    path = tmp_path / "onevox.toml"
    _write(path, sections)
    mic, clock = virtual_mic()
    stages = {"source": mic, "injector": FakeInjector(),
              "recognizer": FakeRecognizer(["hello world"] * 9)}
    stages.update(given)
    factory = StageFactory(**{k: v for k, v in stages.items() if v is not None})
    daemon = Daemon(load_config(path), config_path=path, factory=factory, clock=clock)
    log = EventLog(daemon.bus)
    daemon.start()
    return Running(daemon, path, log, clock)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    r = _start(tmp_path, _sections(tmp_path))
    yield r
    r.daemon.stop()
    r.log.close()


def test_changed_keys_names_every_difference(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    _write(path, _sections(tmp_path))
    old = load_config(path)
    _write(path, _sections(tmp_path, vad={"backend": "energy"}, post_processing={"replacements": {"a": "b"}}))
    assert changed_keys(old, load_config(path)) == ["vad.backend", "post_processing.replacements"]


def test_a_valid_change_is_applied_to_the_next_dictation(running: Running) -> None:
    assert running.dictate() == "Hello world"
    _write(running.path, _sections(running.path.parent, post_processing={"replacements": {"world": "there"}},
                                   audio={"pre_roll_ms": 120}))
    result = running.daemon.reload()
    assert result["reloaded"] is True
    assert set(result["changed"]) == {"post_processing.replacements", "audio.pre_roll_ms"}
    assert result["restart_needed"] == []
    event = running.log.wait_for("config_reloaded")
    assert event["applied"] == result["applied"]
    assert running.dictate() == "Hello there"
    assert running.daemon.controller.pipeline.options.pre_roll_ms == 120
    assert running.daemon.config.audio.pre_roll_ms == 120
    status = running.daemon.commands.status()
    assert status["reloads"] == 1 and status["reload"].startswith("applied")


def test_an_invalid_config_is_rejected_and_the_old_one_kept(running: Running) -> None:
    before = running.daemon.config
    running.path.write_text("[vad]\nthreshold = 7\n", encoding="utf-8")
    result = running.daemon.reload()
    assert result["reloaded"] is False and "threshold" in result["error"]
    error = running.log.wait_for("error", lambda e: e.get("stage") == "config")
    assert "old config is kept" in error["message"]
    status = IpcClient(running.daemon.config.socket_path()).request("status")
    assert status["last_error"].startswith("config:") and "threshold" in status["last_error"]
    assert status["reload"].startswith("rejected: ")
    assert running.daemon.config is before
    assert running.dictate() == "Hello world"  # still works with the old config


def test_keys_that_cannot_change_live_are_named(running: Running) -> None:
    tmp = running.path.parent
    _write(running.path, _sections(tmp, history={"path": str(tmp / "other.sqlite3")},
                                   injection={"method": "stdout"}))
    result = running.daemon.reload()
    # the history file is opened once; the injector here was passed in by the test, so it is not rebuilt
    assert set(result["restart_needed"]) == {"history.path", "injection.method"}
    assert "restart needed for" in result["message"] and "history.path" in result["message"]
    # the daemon still runs on the old history file: a second reload, with another key changed, says so again
    assert running.daemon.config.history.path == str(tmp / "history.sqlite3")
    _write(running.path, _sections(tmp, history={"path": str(tmp / "other.sqlite3")},
                                   injection={"method": "stdout"}, post_processing={"capitalize": False}))
    again = running.daemon.reload()
    assert again["applied"] == ["post_processing.capitalize"]
    assert again["message"].startswith("applied post_processing.capitalize; restart needed for ")
    assert "history.path" in again["restart_needed"]


def test_vad_and_injector_are_rebuilt_on_their_workers(tmp_path: Path) -> None:
    r = _start(tmp_path, _sections(tmp_path, injection={"method": "stdout"}), injector=None)
    try:
        assert r.daemon.commands.status()["injector"] == "stdout"
        _write(r.path, _sections(tmp_path, injection={"method": "auto"}, vad={"backend": "energy"}))
        result = r.daemon.reload()
        assert result["restart_needed"] == []
        stages = r.daemon.controller.stages
        wait_until(lambda: stages.segmenter.detector is not None and stages.injector.name == "auto")
        assert type(stages.segmenter.detector).__name__ == "EnergyVad"
    finally:
        r.daemon.stop()
        r.log.close()


def test_the_file_changing_is_noticed_without_a_signal(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("", encoding="utf-8")
    calls: list[float] = []
    changed = threading.Event()

    def on_change() -> None:
        calls.append(time.monotonic())
        changed.set()

    watcher = ConfigWatcher(path, on_change, interval_s=0.05)
    watcher.start()
    try:
        time.sleep(0.2)
        assert calls == []  # nothing changed: no reload
        path.write_text("[vad]\nbackend = 'energy'\n", encoding="utf-8")
        assert changed.wait(WAIT_S)
        changed.clear()
        watcher.kick()  # what SIGHUP does
        assert changed.wait(WAIT_S)
    finally:
        watcher.stop()
    assert len(calls) == 2


def test_a_file_being_rewritten_is_read_once_it_stops_changing(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("", encoding="utf-8")
    seen: list[str] = []
    changed = threading.Event()

    def on_change() -> None:
        seen.append(path.read_text(encoding="utf-8"))
        changed.set()

    watcher = ConfigWatcher(path, on_change, interval_s=0.02)
    watcher.start()
    try:
        with path.open("w", encoding="utf-8") as handle:  # truncated, then written in pieces
            for piece in ("[vad]\n", "backend = ", "'energy'\n"):
                handle.write(piece)
                handle.flush()
                time.sleep(0.08)  # a slow writer: shorter gaps than the watcher waits for quiet
        assert changed.wait(WAIT_S)
        time.sleep(0.3)
    finally:
        watcher.stop()
    assert seen == ["[vad]\nbackend = 'energy'\n"]


def test_the_daemon_reloads_when_its_file_changes(running: Running) -> None:
    _write(running.path, _sections(running.path.parent, post_processing={"capitalize": False}))
    event = running.log.wait_for("config_reloaded")  # the watcher polls every 2 s
    assert event["changed"] == ["post_processing.capitalize"]
    assert running.dictate() == "hello world"


def test_a_reload_turns_the_feedback_on_and_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)  # no indicator here: the sounds are the part that changes
    r = _start(tmp_path, _sections(tmp_path, feedback={"sounds": False}))
    try:
        assert r.daemon.feedback == ()
        _write(r.path, _sections(tmp_path, feedback={"sounds": True, "sound_volume": 0.3}))
        result = r.daemon.reload()
        assert set(result["changed"]) == {"feedback.sounds", "feedback.sound_volume"}
        assert result["restart_needed"] == [] and "restart" not in result["message"]
        assert r.daemon.feedback == ("sounds",)
        _write(r.path, _sections(tmp_path, feedback={"sounds": False}))
        r.daemon.reload()
        assert r.daemon.feedback == ()
        assert r.dictate() == "Hello world"
    finally:
        r.daemon.stop()
        r.log.close()


def test_spoken_punctuation_follows_the_commands_section(tmp_path: Path) -> None:
    said = "hello comma how are you question mark"
    r = _start(tmp_path, _sections(tmp_path), recognizer=FakeRecognizer([said] * 3))
    try:
        assert r.dictate() == "Hello, how are you?"  # on by default in English
        _write(r.path, _sections(tmp_path, commands={"punctuation": False}))
        result = r.daemon.reload()
        assert result["changed"] == ["commands.punctuation"] and result["restart_needed"] == []
        assert r.dictate() == "Hello comma how are you question mark"
    finally:
        r.daemon.stop()
        r.log.close()
