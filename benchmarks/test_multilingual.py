"""A German dictation on Whisper base (multilingual, `language = "auto"`) through the real daemon code:
tests/data/speech-multilingual's 5 s German clip played as the microphone in real time, cut where its speech
ends (the key is released as the last word ends, the hardest case: nothing is decoded in a trailing pause),
timed from key release to text delivered. The issue's target is 400 ms (printed); `HELD_MS` is held. The
language is detected once per dictation and must be German every time."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from benchmarks.harness import run_workload
from onevox.bench import workloads as wl
from onevox.config import Config
from onevox.vad import create_detector, find_speech
from tests.support.multilingual import MULTI_DIR, base_model_path

TARGET_MS = 400.0  # the target, printed against the median
# what is held: beam search on base's padded window (what makes it as accurate as faster-whisper) measures
# about 400-450 ms here; a decode sent to the full 30 s window takes over a second
HELD_MS = 600.0
GERMAN_CLIP = "de-pvleopard.wav"  # 5.3 s, 4.3 s of speech


@pytest.fixture(scope="module")
def base_config() -> Config:
    return Config().with_changes("model", name=str(base_model_path()), language="auto")


@pytest.fixture(scope="module")
def german(base_config: Config) -> np.ndarray:
    audio = wl.load_clip(MULTI_DIR / GERMAN_CLIP)
    speech = find_speech(audio, base_config.vad, create_detector(base_config.vad))
    return audio[:speech[-1].end]


@pytest.fixture(scope="module")
def base_rig(base_config: Config):
    from onevox.asr.whisper import load_recognizer

    engine = load_recognizer(base_config.model)
    engine.warm_up()
    rig = wl.DictationRig(base_config, engine)
    yield rig
    rig.close()


def test_release_to_text_german_5s_on_base(benchmark, base_rig, german) -> None:
    events = base_rig.daemon.bus.subscribe()
    try:
        run_workload(benchmark, wl.release_to_text(base_rig, german, "release_to_text_de_5s_base"), rounds=5)
        languages, latencies = [], []
        while (event := events.get(timeout=0)) is not None:
            if event.get("event") == "transcribed":
                languages.append(event["language"])
            elif event.get("event") == "injected":  # the pipeline's own release -> text, every round
                latencies.append(event["timings"]["release_to_text"])
    finally:
        events.close()
    median_ms = statistics.median(latencies)
    benchmark.extra_info.update(text=base_rig.texts[-1], languages=languages, median_ms=median_ms)
    print(f"\nrelease to text, {german.size / 16000:.1f} s German on base: median {median_ms:.0f} ms "
          f"(target {TARGET_MS:.0f} ms: {'met' if median_ms < TARGET_MS else 'not met'}); "
          f"{base_rig.texts[-1]!r}; languages {languages}")
    assert languages and set(languages) == {"de"}
    assert "Raum" in base_rig.texts[-1]
    assert median_ms < HELD_MS


def test_faster_whisper_german_5s_on_base(benchmark, base_config, german) -> None:
    """The baseline: plain faster-whisper, its defaults, on the same model and audio (transcription only)."""
    model = wl.load_faster_whisper(base_config)
    run_workload(benchmark, wl.faster_whisper(model, german, "faster_whisper_de_5s_base"), rounds=3)
