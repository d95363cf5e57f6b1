import numpy as np
import pytest
import soxr

from onevox.audio.resample import StreamResampler
from onevox.errors import AudioError


def tone(freq: float, rate: int, seconds: float) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def stream(resampler: StreamResampler, audio: np.ndarray, block: int) -> np.ndarray:
    parts = [resampler.process(audio[i:i + block]) for i in range(0, len(audio), block)]
    parts.append(resampler.flush())
    return np.concatenate(parts)


@pytest.mark.parametrize("rate", [44100, 48000, 22050, 8000])
def test_length_after_flush_matches_the_rate_ratio(rate: int) -> None:
    audio = tone(440, rate, 1.3)
    out = stream(StreamResampler(rate), audio, rate // 100)
    assert out.dtype == np.float32
    assert abs(len(out) - len(audio) * 16000 / rate) <= 1


@pytest.mark.parametrize("rate", [44100, 48000])
def test_output_does_not_depend_on_block_size(rate: int) -> None:
    audio = np.random.default_rng(1).standard_normal(rate).astype(np.float32) * 0.1
    reference = stream(StreamResampler(rate), audio, len(audio))
    for block in (1, 97, rate // 100, 4096):
        out = stream(StreamResampler(rate), audio, block)
        np.testing.assert_allclose(out, reference, atol=1e-5)


@pytest.mark.parametrize("rate", [44100, 48000])
def test_streamed_output_is_continuous_and_matches_one_shot(rate: int) -> None:
    audio = tone(1000, rate, 1.0)
    out = stream(StreamResampler(rate), audio, rate // 100)
    one_shot = soxr.resample(audio, rate, 16000, quality="HQ")
    middle = slice(800, len(one_shot) - 800)
    np.testing.assert_allclose(out[middle], one_shot[middle], atol=1e-3)
    # no seams: a 1 kHz tone at 16 kHz moves at most 2*pi*1000/16000*0.5 per sample
    assert np.max(np.abs(np.diff(out[middle]))) < 0.2


def test_frequency_is_preserved_and_aliases_are_removed() -> None:
    rate = 48000
    kept = stream(StreamResampler(rate), tone(3000, rate, 1.0), 480)[2000:-2000]
    spectrum = np.abs(np.fft.rfft(kept))
    assert np.argmax(spectrum) * 16000 / len(kept) == pytest.approx(3000, abs=5)
    removed = stream(StreamResampler(rate), tone(10000, rate, 1.0), 480)[2000:-2000]  # above 8 kHz
    assert np.sqrt(np.mean(removed**2)) < 1e-4


def test_passthrough_when_rates_match() -> None:
    resampler = StreamResampler(16000)
    audio = tone(440, 16000, 0.1)
    assert resampler.passthrough
    np.testing.assert_array_equal(resampler.process(audio), audio)
    assert resampler.flush().size == 0
    assert resampler.delay_s == 0.0


def test_flush_starts_a_new_piece() -> None:
    resampler = StreamResampler(48000)
    audio = tone(440, 48000, 0.5)
    first = stream(resampler, audio, 480)
    second = stream(resampler, audio, 480)
    np.testing.assert_array_equal(first, second)


def test_reset_forgets_history() -> None:
    resampler = StreamResampler(48000)
    resampler.process(tone(440, 48000, 0.2))
    resampler.reset()
    fresh = StreamResampler(48000)
    audio = tone(660, 48000, 0.3)
    np.testing.assert_array_equal(stream(resampler, audio, 480), stream(fresh, audio, 480))


def test_holds_back_some_output_until_flushed() -> None:
    resampler = StreamResampler(48000)
    out = resampler.process(tone(440, 48000, 0.1))
    assert len(out) < 1600
    assert resampler.delay_s > 0
    assert len(out) + len(resampler.flush()) == 1600


@pytest.mark.parametrize("rates", [(0, 16000), (-8000, 16000), (48000, 0)])
def test_bad_rates_are_rejected(rates: tuple[int, int]) -> None:
    with pytest.raises(AudioError, match="positive"):
        StreamResampler(*rates)


def test_stereo_input_is_rejected() -> None:
    with pytest.raises(AudioError, match="mono"):
        StreamResampler(48000).process(np.zeros((480, 2), dtype=np.float32))
