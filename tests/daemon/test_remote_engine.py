"""The remote engine in the pipeline (controller on doubles, virtual time) against a real HTTP test double:
with fallback none a failed server fails the dictation with one line, types nothing, and keeps the audio and
an entry in the history; with the local fallback the dictation is typed as if nothing happened."""

from __future__ import annotations

from pathlib import Path

import soundfile

from onevox.asr.openai_api import ServerOptions, TranscriptionServer
from onevox.asr.remote import FallbackOptions, RemoteEngine
from onevox.config import Config, ModelConfig
from onevox.daemon.options import PipelineOptions
from tests.daemon.conftest import Harness, build_harness
from tests.daemon.doubles import FakeRecognizer
from tests.support.fake_transcription_server import FakeServer, Reply

OPTIONS = PipelineOptions.from_config(Config(model=ModelConfig(backend="openai", url="http://127.0.0.1:1/v1",
                                                               fallback="none")))


def remote(url: str, local: FakeRecognizer | None) -> RemoteEngine:
    return RemoteEngine(TranscriptionServer(ServerOptions(url=url, timeout_s=5.0)), local, FallbackOptions())


def close(h: Harness) -> None:
    h.controller.close()
    h.log.close()


def test_remote_without_fallback_turns_early_decodes_off_and_keeps_failed_audio() -> None:
    assert OPTIONS.early_decode_ms == 0 and OPTIONS.save_failed and not OPTIONS.save_recordings
    local = PipelineOptions.from_config(Config())
    assert local.early_decode_ms > 0 and not local.save_failed


def test_a_failed_server_without_fallback_fails_the_dictation_and_loses_nothing(tmp_path: Path) -> None:
    with FakeServer([Reply(500, b'{"error": {"message": "CUDA out of memory"}}')]) as fake:
        options = PipelineOptions(**{**OPTIONS.__dict__, "pre_roll_ms": 100,
                                     "recordings_dir": tmp_path / "rec"})
        h = build_harness(tmp_path, options=options, recognizer=remote(fake.url, None))  # type: ignore[arg-type]
        try:
            assert h.start()["started"]
            h.speak(0.6)
            h.pause(0.8)
            h.controller.stop()
            status = h.idle()
        finally:
            close(h)
    assert len(fake.received) == 1 and fake.received[0].audio_samples > 0
    assert h.injector.texts == []
    assert status["last_error"].startswith(f"inference: the server at {fake.url} failed: HTTP 500: CUDA out")
    assert "\n" not in status["last_error"]
    assert status["state"] == "error"
    assert h.history is not None
    entry = h.history.last()
    assert entry is not None and entry.status == "failed"
    assert entry.error.startswith(f"the server at {fake.url} failed: HTTP 500: CUDA out of memory")
    recording = entry.error.rsplit("onevox transcribe ", 1)[1]
    audio, rate = soundfile.read(recording)
    assert rate == 16000 and len(audio) >= fake.received[0].audio_samples


def test_a_failed_server_with_the_local_fallback_still_types_the_text(tmp_path: Path) -> None:
    local = FakeRecognizer(["from the local model"])
    with FakeServer([Reply(503, b"")]) as fake:
        h = build_harness(tmp_path, recognizer=remote(fake.url, local))  # type: ignore[arg-type]
        try:
            event = h.dictate(0.6)
            status = h.idle()
        finally:
            close(h)
    assert event["text"].startswith("From the local model")
    assert status["state"] == "idle" and status["remote"]["local_fallbacks"] >= 1
    assert h.history is not None and h.history.last().model == "fake-model"  # who decoded it, not the server
    assert "HTTP 503" in status["remote"]["last_remote_error"]
