"""The remote engine against onevox's own server (`onevox serve`, a child process with a token): the same
client a desktop uses, the server's auth, and a server killed mid-session."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from onevox.asr.remote import build_remote
from onevox.config import ModelConfig
from tests.support.serve_proc import ServeProcess
from tests.support.wer import clip_errors

pytestmark = pytest.mark.model

TOKEN = "team-secret"


def test_dictation_audio_decoded_by_onevox_serve_then_the_local_model_when_it_dies(
        tmp_path: Path, engine, clip, speech_manifest, monkeypatch: pytest.MonkeyPatch) -> None:
    audio = clip("jfk-inaugural")
    reference = next(c for c in speech_manifest if c["id"] == "jfk-inaugural")
    monkeypatch.setenv("ONEVOX_API_KEY", TOKEN)
    with ServeProcess(tmp_path / "serve", "--workers", "1", token=TOKEN) as server:
        cfg = ModelConfig(backend="openai", url=server.url, api_key_env="ONEVOX_API_KEY", timeout_s=30.0)
        remote = build_remote(cfg, engine)
        served = remote.transcribe(audio)
        assert served.model == f"whisper-1 at {server.url}"
        assert clip_errors(reference, served.text).wer <= 0.1, served.text
        auto = build_remote(ModelConfig(backend="openai", url=server.url, api_key_env="ONEVOX_API_KEY",
                                        timeout_s=30.0, language="auto"), engine)
        assert auto.transcribe(audio[:16000 * 3]).language == "en"  # the language the server heard
        auto.close()

        monkeypatch.setenv("ONEVOX_API_KEY", "wrong")
        refused = build_remote(cfg, engine)
        assert refused.transcribe(audio).model == "tiny.en"  # 401: the local model answered
        assert "401" in refused.status()["last_remote_error"]

        server.stop()  # killed mid-session
        start = time.monotonic()
        local = remote.transcribe(audio)
        waited_s = time.monotonic() - start
    assert local.model == "tiny.en" and clip_errors(reference, local.text).wer <= 0.1
    assert waited_s < cfg.timeout_s  # a closed port fails at once: no timeout paid
    status = remote.status()
    assert (status["remote_decodes"], status["local_fallbacks"]) == (1, 1)
