"""Talking without a pause (issue 9): gap-free speech built from the real clips (onevox.bench.continuous),
1-3 s and 5, 15, 30 and 60 s long, said to the in-process daemon in real time. Timed from key release to text
delivered, the key released on the last word (workloads.RELEASE_AFTER_SPEECH_S after its last sample), so
nothing is left to hear after release. Each round also records the CPU the process used while speaking;
the 15 s one is held to the issue's bound.

Under --benchmark-disable (CI) each length is said once: 112 s of speech in all."""

from __future__ import annotations

import pytest

from benchmarks.harness import run_workload
from onevox.bench import continuous
from onevox.bench import workloads as wl
from tests.support.speech import speech_dir
from tests.support.wer import word_errors

ROUNDS = {2.0: 8, 5.0: 5, 15.0: 3, 30.0: 2, 60.0: 1}
CPU_SPEECH_S = 15.0  # how long the CPU check speaks
MAX_CORES = 1.0  # the bound: under one core on average while speaking


@pytest.fixture(scope="module")
def speech() -> dict[float, continuous.Continuous]:
    return {length: continuous.build(speech_dir(), length) for length in continuous.LENGTHS_S}


@pytest.mark.parametrize("length", continuous.LENGTHS_S, ids=lambda s: f"{s:g}s")
def test_release_to_text_cont(benchmark, rig, speech, length: float, said_to_rig, capsys) -> None:
    said = speech[length]
    key = continuous.release_key(length)
    # a long round is its own warm-up: the daemon and model are warm from the shorter ones
    run_workload(benchmark, wl.continuous_release_to_text(rig, said, key), rounds=ROUNDS[length],
                 warmup=1 if length < 15 else 0)
    text = rig.texts[-1]
    said_to_rig[length] = (text, rig.speaking[-1].cores)
    errors = word_errors(said.reference, text)
    benchmark.extra_info.update(speech_s=round(said.duration_s, 2), clips=[c.id for c in said.clips],
                                text=text, wer=round(errors.wer, 4),
                                cpu_while_speaking=round(rig.speaking[-1].cores, 3))
    assert text.strip(), f"{said.duration_s:.1f} s of speech produced no text"
    assert errors.wer < 0.25, f"WER {errors.wer:.1%} on {said.duration_s:.1f} s: {text!r}"
    if length == CPU_SPEECH_S:
        # CPU time of the whole process (every thread) over the wall time of speaking, as a share of one core
        used = rig.speaking[-1]
        with capsys.disabled():
            print(f"\nCPU while speaking {said.duration_s:.1f} s: {used.cpu_s:.2f} s CPU in "
                  f"{used.wall_s:.2f} s = {used.cores:.0%} of one core")
        assert used.cores < MAX_CORES
