from __future__ import annotations

import numpy as np
import pytest

from onevox.errors import AudioError
from onevox.vad.energy import EnergyOptions, EnergyVad

RATE = 16000


def noise(seconds: float, dbfs: float, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal(int(seconds * RATE))
    return (x / np.sqrt(np.mean(x ** 2)) * 10 ** (dbfs / 20)).astype(np.float32)


def tone(seconds: float, dbfs: float, hz: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * hz * t) * np.sqrt(2) * 10 ** (dbfs / 20)).astype(np.float32)


def probs(vad: EnergyVad, audio: np.ndarray) -> np.ndarray:
    n = len(audio) // vad.frame_samples * vad.frame_samples
    return vad.speech_probs(audio[:n])


def test_digital_silence_is_never_speech() -> None:
    assert probs(EnergyVad(), np.zeros(RATE * 2, np.float32)).max() == 0.0


@pytest.mark.parametrize("dbfs", [-70.0, -50.0, -40.0])
def test_steady_white_noise_is_not_speech(dbfs: float) -> None:
    assert probs(EnergyVad(), noise(3.0, dbfs)).max() < 0.5


def test_loud_noise_from_a_cold_start_is_learnt_within_steady_frames() -> None:
    # Limitation: noise 20 dB over the initial floor sounds like speech until it has been steady for
    # steady_frames; the daemon's pre-roll (300 ms = 15 frames) normally covers that.
    vad = EnergyVad()
    p = probs(vad, noise(3.0, -30.0))
    assert (p[vad.options.steady_frames:] < 0.5).all()


def test_loud_sound_over_quiet_noise_is_speech_at_once() -> None:
    vad = EnergyVad()
    p = probs(vad, np.concatenate([tone(0.1, -20.0) + noise(0.1, -60.0), noise(1.0, -60.0, seed=2)]))
    assert (p[:5] >= 0.5).all()
    assert (p[-20:] < 0.5).all()


def test_floor_follows_a_noise_step_up() -> None:
    vad = EnergyVad()
    probs(vad, noise(1.0, -65.0))
    assert vad.noise_floor_db == pytest.approx(-65.0, abs=3.0)
    p = probs(vad, noise(2.0, -38.0, seed=3))
    assert vad.noise_floor_db == pytest.approx(-38.0, abs=3.0)
    assert (p[-25:] < 0.5).all()


def test_hysteresis_keeps_speech_on_between_off_and_on_margins() -> None:
    opts = EnergyOptions()
    base = noise(1.0, -60.0)
    between = noise(0.1, -60.0 + (opts.on_db + opts.off_db) / 2, seed=4)
    loud = noise(0.1, -30.0, seed=5)
    started = EnergyVad(opts)
    p_started = probs(started, np.concatenate([base, loud, between]))
    assert (p_started[-5:] >= 0.5).all(), "speech already on stays on above floor + off_db"
    idle = EnergyVad(opts)
    p_idle = probs(idle, np.concatenate([base, between]))
    assert (p_idle[-5:] < 0.5).all(), "but does not start below floor + on_db"


def test_quieter_than_min_level_is_never_speech() -> None:
    vad = EnergyVad()
    p = probs(vad, np.concatenate([noise(1.0, -90.0), noise(0.3, -60.0, seed=6)]))
    assert p.max() == 0.0


def test_reset_forgets_the_floor() -> None:
    vad = EnergyVad()
    probs(vad, noise(1.0, -40.0))
    vad.reset()
    assert vad.noise_floor_db is None


def test_batched_equals_single() -> None:
    audio = np.concatenate([noise(0.5, -60.0), tone(0.3, -20.0), noise(0.5, -60.0, seed=7)])
    a, b = EnergyVad(), EnergyVad()
    single = [a.speech_prob(f) for f in audio[:len(audio) // 320 * 320].reshape(-1, 320)]
    np.testing.assert_allclose(probs(b, audio), single, atol=1e-6)


def test_bad_frame_raises_audio_error() -> None:
    with pytest.raises(AudioError):
        EnergyVad().speech_prob(np.zeros(100, np.float32))
