"""Language detection on Whisper base reads the short window (no 30 s encode for it) and agrees with the
full 30 s window on every clip of both corpora where the full window is sure of itself."""

from __future__ import annotations

import pytest

from onevox.asr.whisper import WhisperEngine
from onevox.audio.files import load_audio
from onevox.config import ModelConfig
from tests.support.multilingual import MULTI_DIR, base_model_path, multi_manifest
from tests.support.speech import speech_dir, speech_manifest

pytestmark = pytest.mark.model

SURE = 0.5  # the full window's own confidence above which its answer counts as the truth


def clips() -> list:
    multi = [(MULTI_DIR / c["file"], c["language"]) for c in multi_manifest()]
    english = [(speech_dir() / c["file"], "en") for c in speech_manifest() if c["text"]]
    return multi + english


def test_short_window_detection_agrees_with_the_full_window_without_encoding_30_s():
    model = base_model_path()
    short = WhisperEngine(model, ModelConfig(name="base", language="auto"), "base")
    full = WhisperEngine(model, ModelConfig(name="base", language="auto", window="full"), "base")
    full_encodes = 0
    encode = short._encode

    def counted(mel):
        nonlocal full_encodes
        full_encodes += 1
        return encode(mel)

    short._encode = counted  # type: ignore[method-assign]
    disagree, rows = [], []
    for path, _language in clips():
        audio = load_audio(path)[:16000 * 25]
        before = full_encodes
        mine, reference = short.transcribe(audio), full.transcribe(audio)
        rows.append(f"{path.stem:24} short {mine.language} {mine.language_prob or 0:.2f}  "
                    f"full {reference.language} {reference.language_prob or 0:.2f}")
        if not mine.fallback:
            assert full_encodes == before, f"{path.name}: a 30 s encode without a fallback"
        if (reference.language_prob or 0) >= SURE and mine.language != reference.language:
            disagree.append(path.stem)
    print("\n" + "\n".join(rows))
    assert not disagree, f"the short window detected another language than the sure full window: {disagree}"
