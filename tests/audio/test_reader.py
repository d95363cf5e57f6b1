import threading

import numpy as np
import pytest
import sounddevice as sd

from onevox.audio.reader import DictationReader, Feed, make_input_callback


def ramp(start: int, n: int) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.float32)


def push(feed: Feed, audio: np.ndarray, block: int = 160) -> None:
    """Feed audio through the real input callback, as PortAudio would, block by block."""
    callback = make_input_callback(feed)
    for i in range(0, len(audio), block):
        chunk = audio[i:i + block, np.newaxis]
        callback(chunk, len(chunk), None, sd.CallbackFlags())


def drain(reader: DictationReader) -> np.ndarray:
    parts = []
    while (chunk := reader.read(0.0)).size:
        parts.append(chunk)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def test_callback_copies_blocks_into_the_ring() -> None:
    feed = Feed(16000, 1.0)
    push(feed, ramp(0, 1000))
    out = np.zeros(1000, dtype=np.float32)
    assert feed.ring.read_from(0, out) == 1000
    np.testing.assert_array_equal(out, ramp(0, 1000))


def test_callback_counts_status_flags() -> None:
    feed = Feed(16000, 1.0)
    callback = make_input_callback(feed)
    block = np.zeros((160, 1), dtype=np.float32)
    callback(block, 160, None, sd.CallbackFlags(sd._lib.paInputOverflow))
    callback(block, 160, None, sd.CallbackFlags(sd._lib.paInputUnderflow))
    callback(block, 160, None, sd.CallbackFlags())
    assert feed.status_counts.tolist() == [1, 1]
    assert feed.ring.written == 480


def test_pre_roll_starts_before_begin() -> None:
    feed = Feed(16000, 2.0)
    push(feed, ramp(0, 8000))
    reader = DictationReader()
    reader.begin(feed, pre_roll_ms=100)  # 1600 samples back
    push(feed, ramp(8000, 800))
    reader.end()
    np.testing.assert_array_equal(drain(reader), ramp(6400, 2400))


def test_pre_roll_is_limited_to_what_the_ring_kept() -> None:
    feed = Feed(16000, 0.1)  # 1600 samples
    push(feed, ramp(0, 5000))
    reader = DictationReader()
    reader.begin(feed, pre_roll_ms=1000)
    reader.end()
    np.testing.assert_array_equal(drain(reader), ramp(3400, 1600))


def test_end_stops_at_that_moment() -> None:
    feed = Feed(16000, 1.0)
    reader = DictationReader()
    reader.begin(feed, pre_roll_ms=0)
    push(feed, ramp(0, 480))
    reader.end()
    push(feed, ramp(480, 480))  # after the end: not part of the dictation
    np.testing.assert_array_equal(drain(reader), ramp(0, 480))
    assert reader.read(1.0).size == 0  # drained: returns at once


def test_resampled_dictation_has_the_exact_length() -> None:
    feed = Feed(48000, 2.0)
    reader = DictationReader()
    reader.begin(feed, pre_roll_ms=0)
    audio = (0.3 * np.sin(np.arange(48000) * 2 * np.pi * 440 / 48000)).astype(np.float32)
    parts = []
    for i in range(0, len(audio), 480):
        push(feed, audio[i:i + 480], block=480)
        parts.append(reader.read(0.0))
    reader.end()
    parts.append(drain(reader))
    assert len(np.concatenate(parts)) == 16000


def test_read_waits_for_audio_and_times_out_empty() -> None:
    feed = Feed(16000, 1.0)
    reader = DictationReader()
    reader.begin(feed, pre_roll_ms=0)
    assert reader.read(0.02).size == 0
    timer = threading.Timer(0.05, push, args=(feed, ramp(0, 160)))
    timer.start()
    got = reader.read(5.0)
    timer.join()
    np.testing.assert_array_equal(got, ramp(0, 160))


def test_idle_reader_returns_at_once() -> None:
    reader = DictationReader()
    assert reader.read(10.0).size == 0


def test_a_reader_that_falls_behind_skips_to_the_oldest_and_counts_it() -> None:
    feed = Feed(16000, 0.1)  # 1600 samples
    reader = DictationReader()
    reader.begin(feed, pre_roll_ms=0)
    push(feed, ramp(0, 4000))
    reader.end()
    np.testing.assert_array_equal(drain(reader), ramp(2400, 1600))
    assert reader.overruns == 1
    assert reader.lost_s == pytest.approx(2400 / 16000)


def test_switching_feeds_mid_dictation_handles_a_rate_change() -> None:
    """The device was reopened at another rate: the old feed is finished (and its resampler flushed),
    the new one continues with its own resampler, and no audio of either is lost."""
    old, new = Feed(48000, 1.0), Feed(44100, 1.0)
    reader = DictationReader()
    reader.begin(old, pre_roll_ms=0)
    push(old, np.full(4800, 0.25, dtype=np.float32), block=480)
    first = reader.read(0.0)
    reader.switch(new)
    push(old, np.ones(480, dtype=np.float32))  # stragglers after the switch are not read
    push(new, np.full(4410, -0.25, dtype=np.float32), block=441)
    reader.end()
    out = np.concatenate([first, drain(reader)])
    assert len(out) == 3200
    assert np.all(out[200:1400] == pytest.approx(0.25, abs=1e-3))
    assert np.all(out[1800:3000] == pytest.approx(-0.25, abs=1e-3))


def test_switch_outside_a_dictation_is_ignored() -> None:
    reader = DictationReader()
    reader.switch(Feed(16000, 1.0))
    assert reader.read(0.0).size == 0
    assert not reader.active


def test_discard_forgets_unread_audio() -> None:
    feed = Feed(16000, 1.0)
    reader = DictationReader()
    reader.begin(feed, pre_roll_ms=0)
    push(feed, ramp(0, 800))
    reader.discard()
    assert reader.read(0.0).size == 0
    assert reader.position(feed) is None


def test_read_flushed_returns_the_held_back_tail() -> None:
    feed = Feed(48000, 1.0)
    reader = DictationReader()
    reader.begin(feed, pre_roll_ms=0)
    push(feed, np.full(4800, 0.5, dtype=np.float32), block=480)
    assert len(reader.read(0.0)) < 1600
    reader2 = DictationReader()
    reader2.begin(feed, pre_roll_ms=100)
    assert len(reader2.read_flushed()) == 1600
