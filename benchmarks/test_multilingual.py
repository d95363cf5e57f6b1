"""A German dictation on Whisper base (multilingual, `language = "auto"`) through the real daemon code:
tests/data/speech-multilingual's 5 s German clip played as the microphone in real time, cut where its speech
ends (the key is released as the last word ends, the hardest case: nothing is decoded in a trailing pause),
timed from key release to text delivered. The issue's target is 400 ms (printed); `HELD_MS` is held. The
language is detected once per dictation and must be German every time."""

from __future__ import annotations

import statistics
import time

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
PASS_LEAD_S = 0.1  # how long into a pass the key comes up, where it is released during one


@pytest.fixture(scope="module")
def base_config() -> Config:
    return Config().with_changes("model", name=str(base_model_path()), language="auto")


@pytest.fixture(scope="module")
def german(base_config: Config) -> np.ndarray:
    audio = wl.load_clip(MULTI_DIR / GERMAN_CLIP)
    speech = find_speech(audio, base_config.vad, create_detector(base_config.vad))
    return audio[:speech[-1].end]


@pytest.fixture(scope="module")
def base_engine(base_config: Config):
    from onevox.asr.whisper import load_recognizer

    engine = load_recognizer(base_config.model)
    engine.warm_up()
    return engine


@pytest.fixture(scope="module")
def base_rig(base_config: Config, base_engine):
    rig = wl.DictationRig(base_config, base_engine)
    yield rig
    rig.close()


class PassWatch:
    """When each incremental pass (a word decode not told that its audio holds speech) began, and how many
    were given up; wraps the engine's transcribe_words until closed."""

    def __init__(self, engine) -> None:
        self.engine, self.inner = engine, engine.transcribe_words
        self.starts: list[float] = []
        self.given_up = 0
        engine.transcribe_words = self

    def __call__(self, audio, **kwargs):
        if not kwargs.get("speech"):
            self.starts.append(time.perf_counter())
        result = self.inner(audio, **kwargs)
        self.given_up += result.doubt == "abandoned"
        return result

    def close(self) -> None:
        del self.engine.transcribe_words


def released_to_text(rig: wl.DictationRig, run) -> tuple[list[float], list[str]]:
    """Runs `run()`; the pipeline's own release -> text of every dictation in it, and their languages."""
    events = rig.daemon.bus.subscribe()
    try:
        run()
        languages, latencies = [], []
        while (event := events.get(timeout=0)) is not None:
            if event.get("event") == "transcribed":
                languages.append(event["language"])
            elif event.get("event") == "injected":
                latencies.append(event["timings"]["release_to_text"])
    finally:
        events.close()
    return latencies, languages


def test_release_to_text_german_5s_on_base(benchmark, base_rig, german) -> None:
    latencies, languages = released_to_text(base_rig, lambda: run_workload(
        benchmark, wl.release_to_text(base_rig, german, "release_to_text_de_5s_base"), rounds=5))
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


def test_release_to_text_german_on_base_released_while_a_pass_decodes(benchmark, base_rig, base_engine,
                                                                     german) -> None:
    """The key comes up while an incremental pass is decoding (a third of the time or more on base, whose
    passes take a third of their interval): the pass is given up, and the decode the user waits for starts
    at once on the model's other replica. Where the passes begin is found by a first dictation; the measured
    ones end PASS_LEAD_S after the start of the last pass that fits."""
    watch = PassWatch(base_engine)
    try:
        start = time.perf_counter()
        base_rig.speak(german)
        base_rig.release()
        begun = [t - start for t in watch.starts if t - start + PASS_LEAD_S < german.size / 16000]
        assert begun, "no pass began while the clip was said"
        cut = german[:round((begun[-1] + PASS_LEAD_S) * 16000)]
        watch.given_up = 0
        latencies, languages = released_to_text(base_rig, lambda: run_workload(
            benchmark, wl.release_to_text(base_rig, cut, "release_to_text_de_during_pass_base"), rounds=5))
    finally:
        watch.close()
    median_ms = statistics.median(latencies)
    benchmark.extra_info.update(given_up=watch.given_up, median_ms=median_ms, cut_s=cut.size / 16000)
    print(f"\nrelease to text, German on base released {PASS_LEAD_S:.2f} s into a pass "
          f"({cut.size / 16000:.1f} s said): median {median_ms:.0f} ms over {len(latencies)}, "
          f"{watch.given_up} passes given up; {base_rig.texts[-1]!r}")
    assert watch.given_up >= 1 and set(languages) == {"de"}
    assert median_ms < HELD_MS
