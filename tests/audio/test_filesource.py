import time

import numpy as np
import pytest
import soundfile as sf
import soxr

from onevox.audio.filesource import FileAudioSource
from onevox.errors import AudioError
from tests.support.speech import speech_file


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    audio, rate = sf.read(speech_file("ps-goforward.wav"), dtype="float32")
    assert rate == 16000
    return audio


def read_all(source: FileAudioSource, timeout: float = 0.5) -> np.ndarray:
    parts = []
    while True:
        chunk = source.read(timeout)
        if chunk.size == 0 and source.exhausted:
            break
        parts.append(chunk)
    return np.concatenate(parts)


@pytest.mark.parametrize("rate", [16000, 44100, 48000])
def test_fast_mode_delivers_the_whole_file_exactly(clip: np.ndarray, rate: int) -> None:
    audio = clip if rate == 16000 else soxr.resample(clip, 16000, rate).astype(np.float32)
    source = FileAudioSource(audio, rate, realtime=False)
    source.start()
    try:
        source.begin(300)
        out = read_all(source)
    finally:
        source.close()
    assert len(out) == len(clip)
    assert np.corrcoef(out, clip)[0, 1] > 0.999


def test_fast_mode_never_overruns_a_small_ring(clip: np.ndarray) -> None:
    source = FileAudioSource(clip, 16000, realtime=False, ring_s=0.05)
    source.begin(0)
    try:
        out = read_all(source, timeout=0.05)
    finally:
        source.close()
    np.testing.assert_array_equal(out, clip)
    assert source.status()["overruns"] == 0


def test_fast_mode_later_dictations_continue_and_get_pre_roll(clip: np.ndarray) -> None:
    first, second = clip[:16000], clip[16000:]
    source = FileAudioSource(first, 16000, realtime=False)
    source.begin(0)
    try:
        np.testing.assert_array_equal(read_all(source), first)
        source.end()
        source.feed(second)
        source.begin(100)  # the last 100 ms of the first piece come back as pre-roll
        out = read_all(source)
    finally:
        source.close()
    np.testing.assert_array_equal(out, np.concatenate([first[-1600:], second]))


def test_realtime_mode_keeps_pre_roll_from_before_begin(clip: np.ndarray) -> None:
    source = FileAudioSource(clip, 16000, realtime=True)
    source.start()
    try:
        while source.status()["pending_s"] > len(clip) / 16000 - 1.0:  # let about 1 s "play"
            time.sleep(0.01)
        played_before = len(clip) - round(source.status()["pending_s"] * 16000)
        source.begin(500)
        played_after = len(clip) - round(source.status()["pending_s"] * 16000)
        out = []
        while not source.exhausted:
            out.append(source.read(0.1))
        source.end()
        while (chunk := source.read(0.1)).size:
            out.append(chunk)
    finally:
        source.close()
    audio = np.concatenate(out)
    # the dictation starts 500 ms before the block that was newest at begin(), and then runs to the end
    starts = [s for s in range(0, len(clip) - 1600, 160) if np.array_equal(audio[:1600], clip[s:s + 1600])]
    assert len(starts) == 1
    assert played_before - 8000 - 16 <= starts[0] <= played_after - 8000 + 16  # pending_s is rounded to 1 ms
    np.testing.assert_array_equal(audio[: len(clip) - starts[0]], clip[starts[0]:])


def test_realtime_mode_plays_silence_after_the_queue(clip: np.ndarray) -> None:
    source = FileAudioSource(clip[:1600], 16000, realtime=True)
    source.begin(0)
    try:
        audio = []
        while sum(len(a) for a in audio) < 8000:
            audio.append(source.read(0.5))
    finally:
        source.close()
    out = np.concatenate(audio)
    assert source.exhausted
    assert np.all(out[3200:8000] == 0.0)


def test_status_describes_the_source(clip: np.ndarray) -> None:
    source = FileAudioSource(clip, 16000, realtime=False)
    status = source.status()
    assert status["device"] == "file" and status["rate"] == 16000 and status["error"] is None
    assert not status["open"]
    assert status["pending_s"] == pytest.approx(len(clip) / 16000, abs=0.001)


def test_bad_input_is_rejected() -> None:
    with pytest.raises(AudioError, match="positive"):
        FileAudioSource(np.zeros(10, dtype=np.float32), 0)
    with pytest.raises(AudioError, match="mono"):
        FileAudioSource(np.zeros((10, 2), dtype=np.float32), 16000)
