"""The segmentation state machine, driven by a scripted detector (a test double whose "probability" is
the sample value), so each rule can be checked to the frame. Real detectors are in test_clips.py."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onevox.config import VadConfig
from onevox.errors import AudioError
from onevox.vad.base import FrameByFrame
from onevox.vad.segmenter import SpeechSegmenter, find_speech

F = 512
MS = 16
CFG = VadConfig(min_speech_ms=200, min_silence_ms=500, speech_pad_ms=200, max_segment_s=25.0)


class ScriptedVad(FrameByFrame):
    """Scores a frame by its first sample: audio built with `script` says which frames are speech."""

    name = "scripted"
    frame_samples = F

    def __init__(self) -> None:
        self.resets = 0

    def speech_prob(self, frame: np.ndarray) -> float:
        assert frame.shape == (F,)
        return float(frame[0])

    def reset(self) -> None:
        self.resets += 1


class BatchScriptedVad(ScriptedVad):
    def speech_probs(self, audio: np.ndarray) -> np.ndarray:
        return audio.reshape(-1, F)[:, 0].copy()


def script(*parts: tuple[float, int]) -> np.ndarray:
    """(probability, milliseconds) pieces, each rounded to whole frames."""
    return np.concatenate([np.full(round(ms * MS / F) * F, p, np.float32) for p, ms in parts])


def spans(segments) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in segments]


def frames(ms: int) -> int:
    return round(ms * MS / F) * F


def test_one_utterance_is_one_padded_segment() -> None:
    audio = script((0.0, 1024), (0.9, 1024), (0.0, 1024))
    segs = find_speech(audio, CFG, ScriptedVad())
    start, end = frames(1024), frames(1024) * 2
    assert spans(segs) == [(start - 200 * MS, end + 200 * MS)]
    np.testing.assert_array_equal(segs[0].audio, audio[segs[0].start:segs[0].end])


def test_padding_is_clipped_at_the_stream_edges() -> None:
    audio = script((0.9, 512), (0.0, 96))
    assert spans(find_speech(audio, CFG, ScriptedVad())) == [(0, len(audio))]


def test_bursts_shorter_than_min_speech_are_dropped() -> None:
    audio = script((0.0, 512), (0.9, 128), (0.0, 1024), (0.9, 256), (0.0, 1024))
    segs = find_speech(audio, CFG, ScriptedVad())
    assert len(segs) == 1 and segs[0].start == frames(512 + 128 + 1024) - 200 * MS


def test_a_short_pause_does_not_split_and_a_long_one_does() -> None:
    short = script((0.0, 512), (0.9, 512), (0.0, 448), (0.9, 512), (0.0, 1024))
    assert len(find_speech(short, CFG, ScriptedVad())) == 1
    long = script((0.0, 512), (0.9, 512), (0.0, 1024), (0.9, 512), (0.0, 1024))
    segs = find_speech(long, CFG, ScriptedVad())
    assert len(segs) == 2 and segs[0].end <= segs[1].start


def test_hysteresis_values_between_thresholds_continue_speech() -> None:
    # 0.4 is below threshold 0.5 but above 0.5 - 0.15: it neither starts nor ends speech
    audio = script((0.4, 512), (0.9, 256), (0.4, 2048), (0.9, 256), (0.0, 1024))
    segs = find_speech(audio, CFG, ScriptedVad())
    assert len(segs) == 1 and segs[0].start == frames(512) - 200 * MS


def test_padding_never_overlaps_the_previous_segment() -> None:
    cfg = VadConfig(min_silence_ms=100, speech_pad_ms=300, min_speech_ms=100)
    audio = script((0.9, 512), (0.0, 160), (0.9, 512), (0.0, 1024))
    segs = find_speech(audio, cfg, ScriptedVad())
    assert len(segs) == 2 and segs[0].end == segs[1].start


def test_long_speech_is_split_at_its_quietest_frame() -> None:
    cfg = VadConfig(max_segment_s=4.0, speech_pad_ms=200)
    # 3 s of speech, one dip (0.45: still speech) at 2.5 s, more speech to 6 s
    audio = script((0.9, 2496), (0.45, 32), (0.9, 3488), (0.0, 1024))
    segs = find_speech(audio, cfg, ScriptedVad())
    dip_middle = frames(2496) + F // 2
    assert segs[0].start == 0 and segs[0].end == dip_middle
    assert segs[1].start == dip_middle
    assert all(s.end - s.start <= 4 * 16000 for s in segs)
    assert sum(s.end - s.start for s in segs) == segs[-1].end  # contiguous, nothing lost or doubled


def test_speech_without_any_pause_is_cut_to_max_segment() -> None:
    cfg = VadConfig(max_segment_s=2.0, speech_pad_ms=2000)
    audio = script((0.0, 2048), (0.9, 9984), (0.0, 1024))
    segs = find_speech(audio, cfg, ScriptedVad())
    assert len(segs) >= 5
    assert all(0 < s.end - s.start <= 2 * 16000 for s in segs)
    assert segs[0].start >= frames(2048) - 2 * 16000 // 4  # pad capped at a quarter of max_segment
    assert all(a.end == b.start for a, b in itertools.pairwise(segs))


def test_in_speech_follows_the_stream() -> None:
    seg = SpeechSegmenter(ScriptedVad(), CFG)
    seg.push(script((0.0, 512)))
    assert not seg.in_speech
    seg.push(script((0.9, 96)))
    assert seg.in_speech, "on from the first speech frame, before min_speech_ms"
    seg.push(script((0.0, 96)))
    assert not seg.in_speech, "off in a pause, even one too short to end the segment"
    seg.push(script((0.9, 32)))
    assert seg.in_speech


def test_flush_closes_open_speech_and_resets() -> None:
    vad = ScriptedVad()
    seg = SpeechSegmenter(vad, CFG)
    assert seg.push(script((0.0, 512), (0.9, 1024))) == []
    assert seg.push(np.full(100, 0.9, np.float32)) == []  # a partial frame: scored zero-padded at flush
    out = seg.flush()
    assert spans(out) == [(frames(512) - 200 * MS, frames(512 + 1024) + 100)]
    assert not seg.in_speech and seg.samples_seen == 0
    assert vad.resets == 2  # at construction and at flush


def test_partial_frame_at_flush_is_scored() -> None:
    seg = SpeechSegmenter(ScriptedVad(), VadConfig(min_speech_ms=0))
    seg.push(np.zeros(F * 10, np.float32))
    seg.push(np.full(300, 0.9, np.float32))
    assert spans(seg.flush()) == [(F * 10 - 200 * MS, F * 10 + 300)]


def test_flush_drops_a_too_short_final_burst() -> None:
    seg = SpeechSegmenter(ScriptedVad(), CFG)
    seg.push(script((0.0, 512), (0.9, 96)))
    assert seg.flush() == []


def test_segment_indices_count_from_the_stream_start_across_pushes() -> None:
    seg = SpeechSegmenter(ScriptedVad(), CFG)
    out = []
    for _ in range(50):  # 50 x 100 ms of silence, then an utterance
        out += seg.push(np.zeros(1600, np.float32))
    out += seg.push(script((0.9, 512), (0.0, 1024)))
    first_speech_frame = -(-50 * 1600 // F) * F  # frames stay aligned to the stream start
    assert len(out) == 1 and out[0].start == first_speech_frame - 200 * MS


def test_detector_off_cuts_only_at_max_segment() -> None:
    seg = SpeechSegmenter(None, VadConfig(backend="off", max_segment_s=2.0))
    assert not seg.in_speech
    out = seg.push(np.zeros(16000 * 3, np.float32))
    assert seg.in_speech
    out += seg.push(np.zeros(16000 * 2, np.float32))
    out += seg.flush()
    assert spans(out) == [(0, 32000), (32000, 64000), (64000, 80000)]


def test_find_speech_with_backend_off_returns_everything() -> None:
    audio = np.zeros(16000, np.float32)
    assert spans(find_speech(audio, VadConfig(backend="off"))) == [(0, 16000)]


def test_empty_push_and_empty_stream() -> None:
    seg = SpeechSegmenter(ScriptedVad(), CFG)
    assert seg.push(np.zeros(0, np.float32)) == []
    assert seg.flush() == []


@pytest.mark.parametrize("bad", [np.zeros((10, 2), np.float32), np.zeros(10, np.int16)])
def test_bad_audio_raises_audio_error(bad: np.ndarray) -> None:
    with pytest.raises(AudioError):
        SpeechSegmenter(ScriptedVad(), CFG).push(bad)


def test_window_stays_bounded_on_a_long_stream() -> None:
    seg = SpeechSegmenter(ScriptedVad(), VadConfig(max_segment_s=5.0))
    capacity = seg._window.capacity
    rng = np.random.default_rng(0)
    for _ in range(3000):  # 5 minutes, speech and pauses at random
        seg.push(np.full(1600, float(rng.random() < 0.7), np.float32))
    assert seg._window.capacity == capacity


pieces = st.lists(st.tuples(st.sampled_from([0.0, 0.4, 0.9]), st.integers(1, 80)), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(pieces, st.lists(st.integers(1, 5000), min_size=1, max_size=20),
       st.sampled_from([2.0, 3.0, 25.0]))
def test_any_chunking_gives_the_same_segments(parts, cuts, max_s) -> None:
    cfg = VadConfig(max_segment_s=max_s)
    audio = np.concatenate([np.full(n * 64, p, np.float32) for p, n in parts])
    whole = find_speech(audio, cfg, ScriptedVad())
    seg = SpeechSegmenter(BatchScriptedVad(), cfg)
    out, pos, i = [], 0, 0
    while pos < len(audio):
        step = cuts[i % len(cuts)]
        out += seg.push(audio[pos:pos + step])
        pos, i = pos + step, i + 1
    out += seg.flush()
    assert spans(out) == spans(whole)
    for s in out:
        assert 0 <= s.start < s.end <= len(audio) and s.end - s.start <= max_s * 16000
        np.testing.assert_array_equal(s.audio, audio[s.start:s.end])
    assert all(a.end <= b.start for a, b in itertools.pairwise(out))


def test_a_long_segment_is_also_ended_by_a_shorter_pause() -> None:
    # 7 s of speech, a 256 ms pause (shorter than min_silence_ms 500), 2 s more speech
    audio = script((0.0, 512), (0.9, 7008), (0.0, 256), (0.9, 2016), (0.0, 1024))
    segs = find_speech(audio, CFG, ScriptedVad())
    assert len(segs) == 2
    pause_start = frames(512) + frames(7008)
    assert segs[0].end == pause_start + 200 * MS and segs[1].start == segs[0].end
    assert segs[1].end == pause_start + frames(256) + frames(2016) + 200 * MS


def test_a_short_pause_early_in_a_segment_does_not_end_it() -> None:
    # the same 256 ms pause after 3 s of speech: one segment
    audio = script((0.0, 512), (0.9, 3008), (0.0, 256), (0.9, 2016), (0.0, 1024))
    assert len(find_speech(audio, CFG, ScriptedVad())) == 1


def test_the_shorter_pause_never_exceeds_min_silence() -> None:
    cfg = VadConfig(min_silence_ms=100, speech_pad_ms=0, min_speech_ms=100)
    audio = script((0.9, 7008), (0.0, 128), (0.9, 1024), (0.0, 1024))
    assert len(find_speech(audio, cfg, ScriptedVad())) == 2


def test_voiced_end_marks_the_last_frame_at_the_threshold_not_the_hysteresis() -> None:
    segmenter = SpeechSegmenter(ScriptedVad(), CFG)
    segmenter.push(script((0.0, 256), (0.9, 512), (0.4, 256)))  # 0.4: under the threshold, above the pause
    assert segmenter.in_speech  # the hysteresis holds the segment open...
    assert segmenter.voiced_end == frames(256 + 512)  # ...but the voice was last heard here
    assert segmenter.open_start == frames(256) - 200 * MS
    segmenter.reset()
    assert segmenter.voiced_end == 0 and segmenter.open_start is None
