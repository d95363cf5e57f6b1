"""Switching models while the daemon runs: a config reload with a new `[model] name` (what `onevox models
use` writes) loads it on the ASR worker; a dictation being decoded at that moment still finishes, on the
model it began with, and the next one uses the new model. The models are doubles named after the config."""

from __future__ import annotations

import threading
from pathlib import Path

from onevox.config import ModelConfig
from onevox.daemon.options import PipelineOptions
from onevox.daemon.record import Dictation
from tests.daemon.conftest import WAIT_S
from tests.daemon.doubles import SPEECH_LEVEL, FakeInjector, FakeMic, FakeRecognizer, make_segmenter, play
from tests.daemon.test_reload import Running, _sections, _start, _write
from tests.support.waiting import wait_until


class Models:
    """The model loader handed to the daemon: one FakeRecognizer per name, answering "<name> words"."""

    def __init__(self) -> None:
        self.loaded: dict[str, FakeRecognizer] = {}

    def __call__(self, cfg: ModelConfig) -> FakeRecognizer:
        recognizer = FakeRecognizer([f"{cfg.name} words"] * 50)
        recognizer.model_name = cfg.name
        if cfg.language not in ("", "auto"):  # a model told its language decodes in it
            recognizer.detects = [cfg.language] * 50
        self.loaded[cfg.name] = recognizer
        return recognizer


def _start_with(tmp_path: Path, models: Models, **model: str) -> Running:
    # a segmenter that closes a segment at each pause, so a decode runs while the user is still speaking
    return _start(tmp_path, _sections(tmp_path, model=model), recognizer=None, load_model=models,
                  segmenter=make_segmenter())


def test_a_dictation_in_flight_during_a_model_switch_still_completes(tmp_path: Path) -> None:
    models = Models()
    r = _start_with(tmp_path, models, name="model-a")
    try:
        stages = r.daemon.controller.stages
        mic, injector = stages.source, stages.injector
        assert isinstance(mic, FakeMic) and isinstance(injector, FakeInjector)
        assert r.dictate() == "Model-a words"
        old = models.loaded["model-a"]
        old.gate = threading.Event()  # the next decode blocks: the dictation is in flight
        old.entered.clear()
        assert r.daemon.controller.start()["started"]
        mic.wait_begun(len(mic.begins) + 1)
        play(mic, r.clock, SPEECH_LEVEL, 0.3)
        play(mic, r.clock, 0.0, 0.7)  # a pause closes the first segment: its decode starts and waits
        assert old.entered.wait(WAIT_S)

        _write(r.path, _sections(tmp_path, model={"name": "model-b"}))
        result = r.daemon.reload()
        assert result["changed"] == ["model.name"] and result["restart_needed"] == []

        play(mic, r.clock, SPEECH_LEVEL, 0.3)  # the user goes on speaking while the new model waits
        play(mic, r.clock, 0.0, 0.5)  # a second segment, queued behind the model load
        r.daemon.controller.stop()
        old.gate.set()
        wait_until(lambda: len(injector.texts) == 2)
        typed = injector.texts[1]
        assert typed.startswith("Model-a words")  # completed, on the model it began with
        assert typed.lower().split() == ["model-a", "words"] * 2  # both segments: nothing lost
        assert "model-b" not in models.loaded or not models.loaded["model-b"].calls
        r.log.wait_for("model_loaded", lambda e: e["model"] == "model-b")
        assert r.dictate() == "Model-b words"
        assert r.daemon.commands.status()["model"] == "model-b"
    finally:
        r.daemon.stop()
        r.log.close()


def test_a_switch_waiting_for_a_cancelled_dictation_goes_ahead(tmp_path: Path) -> None:
    models = Models()
    r = _start_with(tmp_path, models, name="model-a")
    try:
        stages = r.daemon.controller.stages
        mic = stages.source
        assert isinstance(mic, FakeMic)
        old = models.loaded["model-a"]
        old.gate = threading.Event()
        assert r.daemon.controller.start()["started"]
        mic.wait_begun(len(mic.begins) + 1)
        play(mic, r.clock, SPEECH_LEVEL, 0.3)
        play(mic, r.clock, 0.0, 0.7)
        assert old.entered.wait(WAIT_S)  # a decode of this dictation is under way
        _write(r.path, _sections(tmp_path, model={"name": "model-b"}))
        r.daemon.reload()
        old.gate.set()
        pipeline = r.daemon.controller.pipeline
        wait_until(lambda: pipeline._deferred_load is not None)  # waiting for the dictation's end
        assert r.daemon.controller.cancel()["cancelled"]  # which never comes
        r.log.wait_for("model_loaded", lambda e: e["model"] == "model-b")  # without another dictation
        assert r.dictate() == "Model-b words"
    finally:
        r.daemon.stop()
        r.log.close()


def test_a_model_that_cannot_load_keeps_the_old_one(tmp_path: Path) -> None:
    from onevox.errors import ModelError

    models = Models()

    def loader(cfg: ModelConfig) -> FakeRecognizer:
        if cfg.name == "missing":
            raise ModelError("model missing is not installed; run `onevox models download missing`")
        return models(cfg)

    r = _start(tmp_path, _sections(tmp_path, model={"name": "model-a"}), recognizer=None, load_model=loader)
    try:
        _write(r.path, _sections(tmp_path, model={"name": "missing"}))
        r.daemon.reload()
        error = r.log.wait_for("error", lambda e: e.get("stage") == "model")
        assert "onevox models download missing" in error["message"] and "keeping model-a" in error["message"]
        assert r.dictate() == "Model-a words"
    finally:
        r.daemon.stop()
        r.log.close()


def test_the_language_reaches_post_processing_and_status(tmp_path: Path) -> None:
    models = Models()
    sections = _sections(tmp_path, model={"name": "model-a", "language": "de"},
                         post_processing={"remove_fillers": True})
    r = _start(tmp_path, sections, recognizer=None, load_model=models)
    try:
        assert r.daemon.commands.status()["language"] == "de"
        models.loaded["model-a"].texts = ["Untertitel im Auftrag des ZDF für funk, 2017", "äh, gut"]
        mic = r.daemon.controller.stages.source
        assert isinstance(mic, FakeMic)
        started = r.daemon.controller.start()
        mic.wait_begun(len(mic.begins) + 1)
        play(mic, r.clock, SPEECH_LEVEL, 0.3)
        r.daemon.controller.stop()
        event = r.log.wait_for("transcribed", lambda e: e["dictation"] == started["dictation"])
        assert event["text"] == ""  # a German silence phrase: nothing typed
        assert r.dictate() == "Gut"  # German fillers go
    finally:
        r.daemon.stop()
        r.log.close()


def test_each_dictation_takes_the_configured_language_when_capture_begins() -> None:
    d = Dictation(1)
    assert d.language == ""  # set by the capture worker from PipelineOptions.language
    assert PipelineOptions(language="fr").language == "fr"


def test_switching_away_from_a_remote_engine_closes_its_connection(tmp_path: Path) -> None:
    from onevox.asr.openai_api import ServerOptions, TranscriptionServer
    from onevox.asr.remote import FallbackOptions, RemoteEngine
    from tests.support.fake_transcription_server import FakeServer, text_reply

    models = Models()
    engines: list[RemoteEngine] = []

    def loader(cfg: ModelConfig) -> FakeRecognizer | RemoteEngine:
        if cfg.name != "remote":
            return models(cfg)
        engines.append(RemoteEngine(TranscriptionServer(ServerOptions(url=fake.url, timeout_s=5.0)), None,
                                    FallbackOptions()))
        return engines[-1]

    with FakeServer([text_reply("remote words")]) as fake:
        r = _start(tmp_path, _sections(tmp_path, model={"name": "remote"}), recognizer=None,
                   load_model=loader)
        try:
            assert r.dictate() == "Remote words"
            server = engines[0].server
            assert not server.closed
            _write(r.path, _sections(tmp_path, model={"name": "model-b"}))
            r.daemon.reload()
            r.log.wait_for("model_loaded", lambda e: e["model"] == "model-b")
            assert server.closed  # the switch closed the old engine's connection
            assert r.dictate() == "Model-b words"
        finally:
            r.daemon.stop()
            r.log.close()
