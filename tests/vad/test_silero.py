from __future__ import annotations

import numpy as np
import pytest

from onevox.errors import AudioError, ModelError
from onevox.vad.silero import FRAME, SileroVad, bundled_model_path

from .clips import load_clip


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    return SileroVad()


def frames_of(audio: np.ndarray) -> np.ndarray:
    return audio[:len(audio) // FRAME * FRAME].reshape(-1, FRAME)


def test_bundled_model_is_found_without_importing_faster_whisper() -> None:
    path = bundled_model_path()
    assert path.name == "silero_vad_v6.onnx" and path.is_file()


def test_speech_scores_high_and_silence_low(vad: SileroVad) -> None:
    vad.reset()
    speech = np.array([vad.speech_prob(f) for f in frames_of(load_clip("ps-cards-005"))])
    vad.reset()
    silence = np.array([vad.speech_prob(f) for f in frames_of(load_clip("nonspeech-silence-2s"))])
    assert speech.max() > 0.9 and (speech > 0.5).mean() > 0.4
    assert silence.max() < 0.1


def test_batched_scores_equal_frame_by_frame(vad: SileroVad) -> None:
    audio = load_clip("arctic-a0024")
    frames = frames_of(audio)
    vad.reset()
    single = np.array([vad.speech_prob(f) for f in frames], np.float32)
    vad.reset()
    uneven = [vad.speech_probs(frames[i:i + n].ravel()) for i, n in ((0, 1), (1, 3), (4, 40), (44, 200))]
    batched = np.concatenate([*uneven, vad.speech_probs(frames[244:].ravel())])
    np.testing.assert_allclose(batched, single, atol=1e-6)


def test_state_carries_between_frames_and_reset_forgets_it(vad: SileroVad) -> None:
    frames = frames_of(load_clip("jfk-inaugural"))
    vad.reset()
    vad.speech_probs(frames[:100].ravel())
    after_speech = vad.speech_prob(frames[100])
    vad.reset()
    fresh = vad.speech_prob(frames[100])
    assert after_speech != pytest.approx(fresh, abs=1e-4)
    vad.reset()
    assert vad.speech_prob(frames[100]) == pytest.approx(fresh, abs=1e-6)


def test_zero_frames_give_an_empty_result(vad: SileroVad) -> None:
    assert vad.speech_probs(np.zeros(0, np.float32)).shape == (0,)


@pytest.mark.parametrize("bad", [np.zeros(511, np.float32), np.zeros((2, 512), np.float32),
                                 np.zeros(512, np.int16)])
def test_bad_frames_raise_audio_error(vad: SileroVad, bad: np.ndarray) -> None:
    with pytest.raises(AudioError):
        vad.speech_prob(bad)


def test_partial_frames_in_a_batch_raise_audio_error(vad: SileroVad) -> None:
    with pytest.raises(AudioError, match="whole frames of 512"):
        vad.speech_probs(np.zeros(1000, np.float32))


def test_float64_frames_are_accepted(vad: SileroVad) -> None:
    vad.reset()
    assert 0.0 <= vad.speech_prob(np.zeros(FRAME, np.float64)) <= 1.0


def test_missing_model_file_raises_model_error(tmp_path) -> None:
    with pytest.raises(ModelError, match="not found"):
        SileroVad(tmp_path / "nope.onnx")


def test_unreadable_model_raises_model_error(tmp_path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not an onnx model")
    with pytest.raises(ModelError, match="cannot load"):
        SileroVad(bad)
