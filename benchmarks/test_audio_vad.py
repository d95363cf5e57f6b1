"""Capture-path micro benchmarks: ring write, resampling, VAD (guide: <100 ns / <500 us / <2 ms)."""

from __future__ import annotations

import pytest

from benchmarks.harness import run_workload
from onevox.bench import workloads as wl


def test_ring_write_100ms(benchmark) -> None:
    run_workload(benchmark, wl.ring_write(), rounds=0)


def test_resample_100ms_48k_to_16k(benchmark) -> None:
    run_workload(benchmark, wl.resample(), rounds=0)


@pytest.mark.parametrize("backend", ["silero", "webrtc", "energy"])
def test_vad_100ms(benchmark, backend: str, speech_10s) -> None:
    run_workload(benchmark, wl.vad(backend, speech_10s), rounds=0)
