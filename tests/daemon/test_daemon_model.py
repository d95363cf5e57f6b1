"""The whole daemon with its real stages: the bundled Whisper model, Silero VAD, FileAudioSource (a real
source that plays a clip through the capture ring/resampler) and the stdout injector, over real IPC."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from onevox.asr.whisper import load_recognizer
from onevox.audio.files import load_audio
from onevox.audio.filesource import FileAudioSource
from onevox.config import Config, DaemonConfig, HistoryConfig, HotkeyConfig, InjectionConfig, ModelConfig
from onevox.daemon.app import Daemon
from onevox.daemon.stages import StageFactory
from onevox.history import History
from onevox.inject.stdout import StdoutInjector
from onevox.ipc.client import IpcClient
from tests.daemon.conftest import EventLog
from tests.support.wer import clip_errors

pytestmark = pytest.mark.model

RATE = 16000


@pytest.fixture(scope="module")
def recognizer():
    engine = load_recognizer(ModelConfig())
    engine.warm_up()
    return engine


@pytest.fixture
def clips(speech_dir: Path, speech_manifest: list[dict]) -> dict[str, dict]:
    return {c["id"]: {**c, "path": speech_dir / c["file"]} for c in speech_manifest}


@pytest.fixture
def daemon(tmp_path: Path, recognizer) -> Iterator[tuple[Daemon, FileAudioSource, io.StringIO]]:
    config = Config(hotkey=HotkeyConfig(backend="none"), injection=InjectionConfig(method="stdout"),
                    history=HistoryConfig(path=str(tmp_path / "history.sqlite3")),
                    daemon=DaemonConfig(socket=str(tmp_path / "run" / "d.sock")))
    source = FileAudioSource(np.zeros(RATE // 10, np.float32), RATE, realtime=True)  # a quiet, warm mic
    out = io.StringIO()
    factory = StageFactory(source=source, injector=StdoutInjector(out), recognizer=recognizer)
    with Daemon(config, factory=factory) as d:
        yield d, source, out


def _dictate(d: Daemon, source: FileAudioSource, audio: np.ndarray, client: IpcClient) -> dict:
    """Press (over IPC), 'speak' the clip into the warm source, release 0.2 s after it ends."""
    log = EventLog(d.bus)
    try:
        started = client.request("start_dictation")
        source.feed(np.concatenate([audio, np.zeros(RATE // 5, np.float32)]))
        time.sleep(audio.size / RATE + 0.2)
        client.request("stop_dictation")
        event = log.wait_for("injected", lambda e: e["dictation"] == started["dictation"], timeout=60)
        transcribed = log.wait_for("transcribed", lambda e: e["dictation"] == started["dictation"])
        return {**transcribed, "injected": event}
    finally:
        log.close()


def test_a_spoken_clip_arrives_as_text(daemon, clips: dict[str, dict]) -> None:
    d, source, out = daemon
    client = IpcClient(d.config.socket_path())
    clip = clips["arctic-a0024"]
    result = _dictate(d, source, load_audio(clip["path"]), client)
    errors = clip_errors(clip, result["text"])
    print(f"\n{clip['id']}: {result['text']!r} WER {errors.wer:.3f} timings {json.dumps(result['timings'])}")
    assert errors.wer <= 0.1
    assert out.getvalue() == result["text"] + "\n"
    assert result["injected"]["method"] == "stdout"
    status = client.request("status")
    assert status["dictations"] == 1 and status["state"] == "idle" and status["last_text"] == result["text"]
    with History(d.config.history_path()) as history:
        entry = history.last()
    assert entry is not None and entry.status == "injected" and entry.text == result["text"]


def test_segments_are_decoded_while_the_clip_is_still_playing(daemon, clips: dict[str, dict]) -> None:
    d, source, _out = daemon
    clip = clips["jfk-inaugural"]  # 11 s with pauses between phrases
    result = _dictate(d, source, load_audio(clip["path"]), IpcClient(d.config.socket_path()))
    errors = clip_errors(clip, result["text"])
    print(f"\n{clip['id']}: {result['text']!r} WER {errors.wer:.3f} segments {result['segments']} "
          f"timings {json.dumps(result['timings'])}")
    assert result["segments"] >= 2
    assert errors.wer <= 0.1
    spans = [e["args"] for e in d.metrics.trace_events() if e.get("name") == "inference"]
    whole = [args for args in spans if not args.get("early") and not args.get("words")]
    assert len(whole) + result["reused"] <= result["segments"]  # no segment decoded whole twice
    assert result["early_segments"] >= 1  # decoded while the clip was still playing
    assert result["passes"] >= 1  # and the open segment while it was still growing
    assert sum(1 for args in spans if args.get("words")) >= result["passes"]
