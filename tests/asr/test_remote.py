"""The remote engine against a real HTTP server in a thread (tests/support/fake_transcription_server.py) that
answers as each test scripts it: what is sent, and every way a server fails."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from onevox.asr.openai_api import RemoteError, ServerOptions, TranscriptionServer
from onevox.asr.privacy import is_private_url, privacy_line
from onevox.asr.remote import FallbackOptions, RemoteEngine, build_remote, read_api_key
from onevox.audio import SAMPLE_RATE
from onevox.config import ModelConfig, parse_config
from onevox.errors import ConfigError, ModelError
from tests.asr.conftest import RecordingRecognizer
from tests.support.fake_transcription_server import FakeServer, Reply, text_reply

AUDIO = (0.1 * np.sin(np.arange(SAMPLE_RATE) * 0.05)).astype(np.float32)  # 1 s


class ManualClock:
    """monotonic() moves only when the test says; the HTTP timeouts still run on real time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def perf_ns(self) -> int:
        return time.perf_counter_ns()

    def wall(self) -> float:
        return time.time()


def engine(url: str, local: RecordingRecognizer | None, clock: ManualClock, *, timeout_s: float = 5.0,
           api_key: str = "") -> RemoteEngine:
    server = TranscriptionServer(ServerOptions(url=url, model="whisper-1", api_key=api_key,
                                               timeout_s=timeout_s))
    return RemoteEngine(server, local, FallbackOptions(retry_after_s=30.0, language="en"), clock)


def test_sends_the_audio_as_wav_with_the_openai_form_fields_and_the_key() -> None:
    with FakeServer([text_reply(" Hello there.")]) as fake:
        remote = engine(fake.url, None, ManualClock(), api_key="sk-test")
        transcript = remote.transcribe(AUDIO, prompt="Earlier words.", language="de")
    assert transcript.text == " Hello there."
    assert transcript.language == "de" and transcript.audio_s == pytest.approx(1.0)
    [sent] = fake.received
    assert sent.path == "/v1/audio/transcriptions"
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.form == {"model": "whisper-1", "response_format": "json", "language": "de",
                         "prompt": "Earlier words."}
    assert (sent.audio_samples, sent.sample_rate) == (AUDIO.size, SAMPLE_RATE)
    assert remote.status()["remote_decodes"] == 1


def test_no_key_no_authorization_header_and_the_configured_language_by_default() -> None:
    with FakeServer([text_reply("hi")]) as fake:
        engine(fake.url, None, ManualClock()).transcribe(AUDIO)
    assert "authorization" not in fake.received[0].headers
    assert fake.received[0].form["language"] == "en" and "prompt" not in fake.received[0].form


def test_a_hung_server_costs_one_timeout_then_the_local_model_answers_until_the_retry() -> None:
    clock, local = ManualClock(), RecordingRecognizer()
    with FakeServer([Reply(delay_s=3.0)]) as fake:
        remote = engine(fake.url, local, clock, timeout_s=0.5)
        start = time.monotonic()
        first = remote.transcribe(AUDIO)
        waited = time.monotonic() - start
        assert first.text == "segment 1." and first.model == "fake"
        assert 0.5 <= waited < 2.5  # one timeout, not the server's 3 s
        assert "no answer within 0.5 s" in remote.status()["last_remote_error"]
        start = time.monotonic()
        second = remote.transcribe(AUDIO)
        assert time.monotonic() - start < 0.4  # the server is not asked again meanwhile
        assert second.text == "segment 2." and len(fake.received) == 1
        assert remote.status()["retry_remote_in_s"] == 30.0
        clock.now += 31
        fake.replies.append(text_reply("back again"))
        assert remote.transcribe(AUDIO).text == "back again"
    assert remote.status()["local_fallbacks"] == 2 and remote.status()["remote_decodes"] == 1
    assert remote.status()["retry_remote_in_s"] is None


@pytest.mark.parametrize(("reply", "message"), [
    (Reply(401, b'{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}'),
     "HTTP 401: Incorrect API key provided"),
    (Reply(500, b"Internal Server Error"), "HTTP 500: Internal Server Error"),
    (Reply(400, b'{"detail": {"error": {"message": "Unsupported response_format"}}}'),
     "HTTP 400: Unsupported response_format"),
    (Reply(200, b"<html>captive portal</html>"), "answered something that is not JSON: <html>captive"),
    (Reply(200, b'{"transcript": "hi"}'), "answered JSON without a \"text\" string"),
])
def test_each_failure_is_one_clear_line_and_falls_back(reply: Reply, message: str) -> None:
    with FakeServer([reply]) as fake:
        with pytest.raises(ModelError) as info:
            engine(fake.url, None, ManualClock()).transcribe(AUDIO)
        assert str(info.value).startswith(f"the server at {fake.url} failed: {message}")
        assert "fallback = \"none\"" in str(info.value) and "\n" not in str(info.value)
        local = RecordingRecognizer()
        assert engine(fake.url, local, ManualClock()).transcribe(AUDIO).text == "segment 1."


def test_a_server_that_is_gone_fails_at_once() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    local = RecordingRecognizer()
    remote = engine(f"http://127.0.0.1:{port}/v1", local, ManualClock(), timeout_s=5.0)
    start = time.monotonic()
    assert remote.transcribe(AUDIO).text == "segment 1."
    assert time.monotonic() - start < 2.0
    assert "cannot reach the server" in remote.status()["last_remote_error"]


def test_the_client_raises_remote_error_only() -> None:
    with FakeServer([Reply(503, b"")]) as fake:
        client = TranscriptionServer(ServerOptions(url=fake.url + "/"))
        with pytest.raises(RemoteError, match="HTTP 503"):
            client.transcribe(AUDIO)
        client.close()
    assert fake.received[0].path == "/v1/audio/transcriptions"  # a trailing slash in the URL is fine


def test_the_api_key_comes_from_the_environment_or_a_file(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEVOX_TEST_KEY", " sk-env \n")
    assert read_api_key(ModelConfig(api_key_env="ONEVOX_TEST_KEY")) == "sk-env"
    monkeypatch.delenv("ONEVOX_TEST_KEY")
    with pytest.raises(ModelError, match="api_key_env: the environment variable ONEVOX_TEST_KEY is not set"):
        read_api_key(ModelConfig(api_key_env="ONEVOX_TEST_KEY"))
    key = tmp_path / "key"
    key.write_text("sk-file\n")
    assert read_api_key(ModelConfig(api_key_file=str(key))) == "sk-file"
    with pytest.raises(ModelError, match="api_key_file: cannot read"):
        read_api_key(ModelConfig(api_key_file=str(tmp_path / "missing")))
    assert read_api_key(ModelConfig()) == ""


def test_build_remote_sends_the_key_it_read(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("sk-file")
    with FakeServer([text_reply("ok")]) as fake:
        cfg = ModelConfig(backend="openai", url=fake.url, api_key_file=str(key), remote_model="large-v3",
                          language="auto")
        remote = build_remote(cfg, None)
        remote.transcribe(AUDIO)
    assert fake.received[0].headers["authorization"] == "Bearer sk-file"
    assert fake.received[0].form["model"] == "large-v3"
    assert "language" not in fake.received[0].form  # auto: the server detects it


def test_config_needs_a_url_and_has_no_place_for_a_key() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config('[model]\nbackend = "openai"\n', "c.toml")
    assert str(info.value) == 'c.toml: model.url: required when backend = "openai"'
    with pytest.raises(ConfigError, match=r"model\.url: must start with http:// or https://"):
        parse_config('[model]\nbackend = "openai"\nurl = "host:8000"\n', "c.toml")
    with pytest.raises(ConfigError, match=r"model\.api_key: unknown key"):
        parse_config('[model]\napi_key = "sk-secret"\n', "c.toml")
    cfg = parse_config('[model]\nbackend = "openai"\nurl = "https://api.openai.com/v1"\n'
                       'api_key_env = "OPENAI_API_KEY"\ntimeout_s = 5\nfallback = "none"\n', "c.toml")
    assert (cfg.model.timeout_s, cfg.model.fallback) == (5.0, "none")


def test_status_and_doctor_say_where_the_audio_goes() -> None:
    assert privacy_line(ModelConfig()) is None
    line = privacy_line(ModelConfig(backend="openai", url="http://10.0.0.5:8000/v1"))
    assert line is not None and line.startswith("audio is sent to http://10.0.0.5:8000/v1")
    assert "unencrypted" in line
    assert is_private_url("http://127.0.0.1:8000/v1") and is_private_url("http://localhost/v1")
    assert is_private_url("https://api.openai.com/v1") and not is_private_url("http://gpu-box:8000/v1")
    with FakeServer([text_reply("x")]) as fake:
        status = engine(fake.url, RecordingRecognizer(), ManualClock()).status()
    assert status["audio_sent_to"] == fake.url and status["fallback"] == "fake"
    json.dumps(status)  # what IPC sends


def test_the_prompt_and_vocabulary_go_ahead_of_the_earlier_words_and_a_profile_swaps_them() -> None:
    with FakeServer([text_reply("a"), text_reply("b"), text_reply("c")]) as fake:
        cfg = ModelConfig(backend="openai", url=fake.url, initial_prompt="Meeting notes.",
                          vocabulary=["Kubernetes", "onevox"])
        remote = build_remote(cfg, None)
        remote.transcribe(AUDIO, prompt="Earlier words.")
        remote.use_context("Shell commands.", ["kubectl"])  # a profile's
        remote.transcribe(AUDIO)
        remote.use_context()  # back to the configured ones
        remote.set_learned_words(["GitHub", "kubernetes"])  # from corrections: after the vocabulary, once
        remote.transcribe(AUDIO)
    prompts = [sent.form.get("prompt") for sent in fake.received]
    assert prompts == ["Meeting notes. Kubernetes, onevox. Earlier words.", "Shell commands. kubectl.",
                       "Meeting notes. Kubernetes, onevox, GitHub."]


def test_with_auto_the_language_is_the_one_the_server_says_it_heard() -> None:
    replies = [Reply(body=b'{"text": " Guten Tag.", "language": "de"}'),
               Reply(body=b'{"text": " Hello.", "language": "english"}')]  # a name, not a code: not guessed
    with FakeServer(replies) as fake:
        remote = build_remote(ModelConfig(backend="openai", url=fake.url, language="auto"), None)
        assert remote.transcribe(AUDIO).language == "de"
        assert remote.transcribe(AUDIO).language == ""
        remote.close()
    with FakeServer(replies) as fake:  # a configured language is never overridden by the server's
        remote = build_remote(ModelConfig(backend="openai", url=fake.url, language="fr"), None)
        assert remote.transcribe(AUDIO).language == "fr"
        remote.close()
