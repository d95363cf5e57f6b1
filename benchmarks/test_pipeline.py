"""Whole dictations through the real daemon code: a speech file played as the microphone in real time,
real VAD and model, real controller, the stdout injector writing to memory. Timed from key release to text
delivered (the speaking itself is untimed setup)."""

from __future__ import annotations

from benchmarks.harness import run_workload
from onevox.bench import workloads as wl


def test_release_to_text_1s(benchmark, rig, speech_1s) -> None:
    run_workload(benchmark, wl.release_to_text(rig, speech_1s, "release_to_text_1s"), rounds=8)
    benchmark.extra_info["text"] = rig.texts[-1]
    assert rig.texts[-1].strip(), "the 1 s dictation produced no text"


def test_release_to_text_10s(benchmark, rig, speech_10s) -> None:
    run_workload(benchmark, wl.release_to_text(rig, speech_10s, "release_to_text_10s"), rounds=3)
    benchmark.extra_info["text"] = rig.texts[-1]
    assert len(rig.texts[-1].split()) > 10


def test_faster_whisper_10s(benchmark, plain_faster_whisper, speech_10s) -> None:
    run_workload(benchmark, wl.faster_whisper(plain_faster_whisper, speech_10s, "faster_whisper_10s"),
                 rounds=3)
