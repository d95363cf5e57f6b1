"""The daemon learns over IPC: `correct` records a correction of a history entry the daemon wrote, and the
next dictation comes out with the learned fix, without a restart (in-process daemon, real IPC socket,
real history and vocabulary files; the recognizer and the microphone are doubles)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from onevox.config import Config, DaemonConfig, HistoryConfig, HotkeyConfig, VadConfig, VocabularyConfig
from onevox.daemon.app import Daemon
from onevox.daemon.stages import StageFactory
from onevox.errors import IpcError
from onevox.ipc.client import IpcClient
from onevox.vocabulary.store import VocabularyStore, store_path
from tests.daemon.doubles import SPEECH_LEVEL, FakeInjector, FakeRecognizer, play, virtual_mic
from tests.support.waiting import wait_until

HEARD = ["we deploy to cooper netties", "cooper netties is down", "restart cooper netties now",
         "cooper netties runs the cluster", "cooper netties runs the cluster"]


class Running:
    def __init__(self, tmp_path: Path, history: bool = True) -> None:
        self.mic, self.clock = virtual_mic()
        self.injector = FakeInjector()
        self.config = Config(hotkey=HotkeyConfig(backend="none"), vad=VadConfig(backend="off"),
                             history=HistoryConfig(enabled=history, path=str(tmp_path / "history.sqlite3")),
                             daemon=DaemonConfig(socket=str(tmp_path / "run" / "d.sock")),
                             vocabulary=VocabularyConfig(min_count=2))
        factory = StageFactory(source=self.mic, injector=self.injector, recognizer=FakeRecognizer(HEARD))
        self.daemon = Daemon(self.config, factory=factory, clock=self.clock)
        self.client = IpcClient(self.config.socket_path())

    def dictate(self) -> str:
        count = len(self.injector.texts)
        self.client.request("start_dictation")
        self.mic.wait_begun(count + 1)
        play(self.mic, self.clock, SPEECH_LEVEL, 0.3)
        self.client.request("stop_dictation")
        wait_until(lambda: len(self.injector.texts) == count + 1)
        return self.injector.texts[-1]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    r = Running(tmp_path)
    r.daemon.start()
    yield r
    r.daemon.stop()


def test_corrections_over_ipc_fix_the_next_dictation(running: Running) -> None:
    said = [running.dictate() for _ in range(3)]
    assert said[0] == "We deploy to cooper netties "
    first = running.client.request("correct", entry=1, text="We deploy to Kubernetes")
    assert first["history_id"] == 1 and first["original"] == "We deploy to cooper netties"
    assert [(r["wrong"], r["right"], r["state"]) for r in first["rules"]] == [
        ("cooper netties", "Kubernetes", "proposed")]
    assert running.dictate() == "Cooper netties runs the cluster "  # seen once: min_count is 2
    second = running.client.request("correct", entry=2, text="Kubernetes is down")
    assert second["rules"][0]["state"] == "active" and second["rules"][0]["support"] == 2
    assert running.dictate() == "Kubernetes runs the cluster "


def test_a_rule_forgotten_from_the_cli_side_stops_at_the_next_dictation(running: Running) -> None:
    for entry in (1, 2):
        running.dictate()
        # a rewrite of the whole text teaches nothing
        running.client.request("correct", entry=entry, text="Kubernetes")
    store = VocabularyStore(store_path(running.config.history_path()))
    assert store.rules(running.config.vocabulary) == []
    running.dictate()
    running.client.request("correct", entry=1, text="We deploy to Kubernetes")
    running.client.request("correct", entry=3, text="restart Kubernetes now")
    assert running.dictate() == "Kubernetes runs the cluster "
    store.decide(store.rules(running.config.vocabulary)[0].id, "forgotten")  # another process's write
    store.close()
    assert running.dictate() == "Cooper netties runs the cluster "


def test_bad_correct_requests_get_one_clear_error(running: Running) -> None:
    with pytest.raises(IpcError, match=r"^no history entry 7$") as err:
        running.client.request("correct", entry=7, text="Anything")
    assert err.value.code == "failed"
    with pytest.raises(IpcError, match="needs \"entry\"") as err:
        running.client.request("correct", entry="1", text="x")
    assert err.value.code == "bad_request"
    assert running.client.request("status")["ready"] is True  # still up


def test_without_history_correct_is_unavailable(tmp_path: Path) -> None:
    r = Running(tmp_path, history=False)
    r.daemon.start()
    try:
        with pytest.raises(IpcError, match="keeps no history") as err:
            r.client.request("correct", entry=1, text="x")
        assert err.value.code == "unavailable"
    finally:
        r.daemon.stop()


def test_a_reload_of_vocabulary_keys_applies_at_once(tmp_path: Path) -> None:
    r = Running(tmp_path)
    path = tmp_path / "onevox.toml"
    body = (f'[hotkey]\nbackend = "none"\n[vad]\nbackend = "off"\n'
            f'[history]\npath = "{tmp_path}/history.sqlite3"\n[daemon]\nsocket = "{r.config.socket_path()}"\n'
            '[vocabulary]\nmin_count = {}\n')
    path.write_text(body.format(3))
    r.daemon = Daemon(r.config.with_changes("vocabulary", min_count=3), factory=r.daemon.factory,
                      clock=r.clock, config_path=path)
    r.daemon.start()
    try:
        for entry in (1, 2):
            r.dictate()
            r.client.request("correct", entry=entry, text="Kubernetes is down" if entry == 2 else
                             "We deploy to Kubernetes")
        r.dictate()
        path.write_text(body.format(2))
        assert "vocabulary.min_count" in r.client.request("reload")["message"]
        assert r.dictate() == "Kubernetes runs the cluster "
    finally:
        r.daemon.stop()
