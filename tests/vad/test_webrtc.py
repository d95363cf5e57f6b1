from __future__ import annotations

import numpy as np
import pytest

from onevox.errors import AudioError
from onevox.vad.webrtc import WebRtcVad, aggressiveness_for_threshold

from .clips import load_clip


@pytest.mark.parametrize(("threshold", "mode"), [(0.0, 0), (0.2, 1), (0.5, 2), (0.7, 2), (0.9, 3), (1.0, 3)])
def test_threshold_maps_to_aggressiveness(threshold: float, mode: int) -> None:
    assert aggressiveness_for_threshold(threshold) == mode


@pytest.mark.parametrize(("frame_ms", "samples"), [(10, 160), (20, 320), (30, 480)])
def test_frame_sizes(frame_ms: int, samples: int) -> None:
    assert WebRtcVad(2, frame_ms).frame_samples == samples


@pytest.mark.parametrize(("mode", "frame_ms"), [(4, 30), (-1, 30), (2, 25)])
def test_bad_settings_raise_audio_error(mode: int, frame_ms: int) -> None:
    with pytest.raises(AudioError):
        WebRtcVad(mode, frame_ms)


def test_speech_is_speech_and_silence_is_not() -> None:
    vad = WebRtcVad()
    speech = load_clip("ps-cards-005")
    probs = vad.speech_probs(speech[:len(speech) // 480 * 480])
    assert set(np.unique(probs)) <= {0.0, 1.0}
    assert probs.mean() > 0.5
    vad.reset()
    assert vad.speech_probs(np.zeros(480 * 50, np.float32)).max() == 0.0


def test_batched_equals_single_and_clipping_is_safe() -> None:
    rng = np.random.default_rng(1)
    audio = (rng.standard_normal(480 * 40) * 2.0).astype(np.float32)  # far beyond full scale
    a, b = WebRtcVad(), WebRtcVad()
    single = [a.speech_prob(f) for f in audio.reshape(-1, 480)]
    np.testing.assert_array_equal(b.speech_probs(audio), single)  # 40 frames: past the buffer made up front
    np.testing.assert_array_equal(b.speech_probs(audio[:960]), single[:2])


def test_bad_frame_raises_audio_error() -> None:
    with pytest.raises(AudioError, match="480 samples"):
        WebRtcVad().speech_prob(np.zeros(512, np.float32))
