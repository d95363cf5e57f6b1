"""The model folder missing or corrupt: the daemon stays up, says what is wrong and what to run, refuses
dictations with that message, and a config reload picks the model up once it is there. The real model
registry and loader run (no recognizer is passed in)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from onevox.config import load_config
from onevox.daemon.app import Daemon
from onevox.daemon.stages import StageFactory
from onevox.errors import IpcError
from onevox.ipc.client import IpcClient
from tests.daemon.conftest import EventLog
from tests.daemon.doubles import FakeInjector, FakeMic
from tests.daemon.test_reload import _sections, _write
from tests.support.waiting import wait_until


def _daemon(tmp_path: Path, model: str) -> tuple[Daemon, Path, EventLog]:
    path = tmp_path / "onevox.toml"
    _write(path, _sections(tmp_path, model={"name": model}))
    factory = StageFactory(source=FakeMic(), injector=FakeInjector())
    daemon = Daemon(load_config(path), factory=factory, config_path=path)
    log = EventLog(daemon.bus)
    daemon.start()
    return daemon, path, log


@pytest.fixture
def missing(tmp_path: Path, isolated_xdg: Path) -> Iterator[tuple[Daemon, Path, EventLog]]:
    daemon, path, log = _daemon(tmp_path, "base.en")  # not downloaded in this empty XDG home
    yield daemon, path, log
    daemon.stop()
    log.close()


def test_a_missing_model_leaves_the_daemon_up_and_says_what_to_run(missing) -> None:
    daemon, _path, log = missing
    client = IpcClient(daemon.config.socket_path())
    status = client.request("status")
    assert status["ready"] is True and status["state"] == "error"
    assert "onevox models download base.en" in status["fault"]
    assert status["last_error"].startswith("model:") and status["model"] == "base.en"
    error = log.wait_for("error", lambda e: e.get("stage") == "model")
    assert error["fatal"] is True and "onevox models download base.en" in error["message"]
    for cmd in ("start_dictation", "toggle"):
        with pytest.raises(IpcError, match=r"onevox models download base\.en") as caught:
            client.request(cmd)
        assert caught.value.code == "unavailable"
    assert client.request("stop_dictation")["stopped"] is False  # nothing to stop: a no-op
    daemon.commands.on_hotkey("start")  # the hotkey is refused without raising in its thread
    assert client.request("ping")["pong"] is True


@pytest.mark.model
def test_a_reload_loads_the_model_once_it_is_there(missing) -> None:
    daemon, path, log = missing
    _write(path, _sections(path.parent, model={"name": "tiny.en"}))  # the bundled model
    result = daemon.reload()
    assert result["reloaded"] is True and result["changed"] == ["model.name"]
    log.wait_for("model_loaded", timeout=60)
    wait_until(lambda: daemon.controller.state == "idle")
    status = daemon.commands.status()
    assert status["fault"] == "" and status["model"] == "tiny.en"
    assert daemon.controller.start()["started"] is True
    daemon.controller.cancel()


def test_a_corrupt_model_folder_is_reported(tmp_path: Path, isolated_xdg: Path) -> None:
    folder = tmp_path / "broken-model"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"\x00garbage" * 100)
    (folder / "config.json").write_text("{not json", encoding="utf-8")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    daemon, _path, log = _daemon(tmp_path, str(folder))
    try:
        status = IpcClient(daemon.config.socket_path()).request("status")
        assert status["state"] == "error" and str(folder) in status["fault"]
        with pytest.raises(IpcError, match=re.escape(str(folder))):
            IpcClient(daemon.config.socket_path()).request("start_dictation")
    finally:
        daemon.stop()
        log.close()


def test_a_bad_model_in_a_reload_keeps_the_working_one(tmp_path: Path, isolated_xdg: Path) -> None:
    from onevox.asr.base import SpeechRecognizer
    from onevox.asr.whisper import load_recognizer
    from onevox.config import ModelConfig
    from tests.daemon.doubles import FakeRecognizer

    recognizer = FakeRecognizer()
    path = tmp_path / "onevox.toml"
    _write(path, _sections(tmp_path))
    loads: list[str] = []

    def load(model: ModelConfig) -> SpeechRecognizer:
        loads.append(model.name)
        if len(loads) == 1:
            return recognizer  # a "loaded" model without the cost; the reload then loads for real
        return load_recognizer(model)

    factory = StageFactory(source=FakeMic(), injector=FakeInjector(), load_model=load)
    daemon = Daemon(load_config(path), factory=factory, config_path=path)
    log = EventLog(daemon.bus)
    daemon.start()
    try:
        _write(path, _sections(tmp_path, model={"name": "base.en"}))
        daemon.reload()
        error = log.wait_for("error", lambda e: e.get("stage") == "model")
        assert "keeping fake-model" in error["message"]
        assert daemon.controller.state == "idle" and daemon.controller.stages.recognizer is recognizer
        assert loads == ["tiny.en", "base.en"]
    finally:
        daemon.stop()
        log.close()
