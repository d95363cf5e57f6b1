"""Speed regression checks that hold on any machine: each compares onevox with a slower reference measured
side by side, interleaved, in the same run, so machine load affects both alike. CI runs these
(`scripts/bench.sh --regression`); absolute figures come from the other benchmarks and `onevox bench`."""

from __future__ import annotations

import dataclasses
import statistics
import time

import pytest

from onevox.bench import workloads as wl

pytestmark = pytest.mark.regression


def _interleaved_medians(first, second, rounds: int) -> tuple[float, float]:
    a, b = [], []
    for _ in range(rounds):
        for run, out in ((first, a), (second, b)):
            start = time.perf_counter()
            run()
            out.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)


def test_sized_window_is_at_least_twice_as_fast_as_the_full_window(config, recognizer, speech_1s) -> None:
    from onevox.asr.whisper import load_recognizer

    full = load_recognizer(dataclasses.replace(config.model, window="full"))
    full.warm_up()
    ours, reference = _interleaved_medians(lambda: recognizer.transcribe(speech_1s),
                                           lambda: full.transcribe(speech_1s), rounds=7)
    assert ours * 2 < reference, f"sized window {ours * 1e3:.0f} ms vs full window {reference * 1e3:.0f} ms"


def test_release_to_text_beats_plain_faster_whisper(rig, plain_faster_whisper, speech_1s) -> None:
    """Key release to text through the whole daemon vs faster-whisper merely transcribing the same clip."""
    ours, theirs = [], []
    for _ in range(5):
        rig.speak(speech_1s)
        start = time.perf_counter()
        text = rig.release()
        ours.append(time.perf_counter() - start)
        assert text.strip()
        start = time.perf_counter()
        wl.faster_whisper(plain_faster_whisper, speech_1s, "faster_whisper_1s").run()
        theirs.append(time.perf_counter() - start)
    mine, reference = statistics.median(ours), statistics.median(theirs)
    assert mine * 2 < reference, (
        f"release to text {mine * 1e3:.0f} ms vs faster-whisper {reference * 1e3:.0f} ms")


def test_vad_costs_a_small_fraction_of_real_time(speech_10s) -> None:
    """Silero on the capture worker must stay far below real time (here: < 2 % of the audio's duration)."""
    workload = wl.vad("silero", speech_10s)
    start = time.perf_counter()
    for _ in range(50):
        workload.run()
    per_100ms = (time.perf_counter() - start) / 50
    assert per_100ms < 0.002, f"Silero VAD takes {per_100ms * 1e3:.2f} ms per 100 ms of audio"
