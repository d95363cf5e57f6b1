"""LogMel against faster-whisper's FeatureExtractor (the reference it re-lays for speed)."""

from __future__ import annotations

import numpy as np
import pytest
from faster_whisper.feature_extractor import FeatureExtractor

from onevox.asr.features import LogMel


@pytest.mark.parametrize("n_mels", [80, 128])
@pytest.mark.parametrize("samples", [0, 1, 399, 400, 16000, 16000 * 7 + 123])
def test_same_features_as_faster_whisper(n_mels: int, samples: int) -> None:
    audio = np.random.default_rng(samples).normal(0.0, 0.1, samples).astype(np.float32)
    expected = FeatureExtractor(feature_size=n_mels)(audio)
    got = LogMel(n_mels)(audio)
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_real_speech_and_silence(clip) -> None:
    for clip_id in ("ljspeech-lj002-0020", "nonspeech-silence-2s", "ls-2412-153948-0001"):
        audio = clip(clip_id)
        np.testing.assert_allclose(LogMel(80)(audio), FeatureExtractor(80)(audio), atol=1e-5)


def test_output_is_contiguous_and_input_is_untouched() -> None:
    audio = np.linspace(-0.5, 0.5, 8000, dtype=np.float32)
    before = audio.copy()
    mel = LogMel(80)(audio)
    assert mel.flags.c_contiguous
    np.testing.assert_array_equal(audio, before)
