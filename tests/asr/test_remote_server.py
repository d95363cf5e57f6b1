"""The remote engine against a real third-party OpenAI-compatible server: faster-whisper-server from PyPI,
serving the bundled tiny.en in a child process (tests/support/whisper_server.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from onevox.asr.remote import build_remote
from onevox.config import ModelConfig
from tests.support.wer import clip_errors
from tests.support.whisper_server import WhisperServer

pytestmark = pytest.mark.model

TIMEOUT_S = 5.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with WhisperServer(tmp_path_factory.mktemp("fws")) as running:
        yield running


def test_the_server_transcribes_a_real_clip(server: WhisperServer, clip, speech_manifest) -> None:
    remote = build_remote(ModelConfig(backend="openai", url=server.url, fallback="none"), None)
    text = remote.transcribe(clip("jfk-inaugural")).text
    reference = next(c for c in speech_manifest if c["id"] == "jfk-inaugural")
    assert clip_errors(reference, text).wer <= 0.1, text
    assert remote.status()["remote_decodes"] == 1 and remote.status()["local_fallbacks"] == 0


def test_a_hung_server_costs_one_timeout_then_the_local_model_answers(tmp_path: Path, engine, clip,
                                                                     speech_manifest) -> None:
    audio = clip("jfk-inaugural")
    reference = next(c for c in speech_manifest if c["id"] == "jfk-inaugural")
    with WhisperServer(tmp_path) as own:
        remote = build_remote(ModelConfig(backend="openai", url=own.url, timeout_s=TIMEOUT_S), engine)
        assert clip_errors(reference, remote.transcribe(audio).text).wer <= 0.1
        own.pause()
        start = time.monotonic()
        fallback = remote.transcribe(audio)
        first_s = time.monotonic() - start
        start = time.monotonic()
        again = remote.transcribe(audio)
        second_s = time.monotonic() - start
    assert fallback.model == "tiny.en" and again.model == "tiny.en"  # the local engine answered both
    assert clip_errors(reference, fallback.text).wer <= 0.1 and again.text == fallback.text
    assert first_s >= TIMEOUT_S  # it waited for the server once...
    assert second_s < TIMEOUT_S  # ...and not again
    status = remote.status()
    assert (status["remote_decodes"], status["local_fallbacks"]) == (1, 2)
    assert f"no answer within {TIMEOUT_S:g} s" in status["last_remote_error"]
