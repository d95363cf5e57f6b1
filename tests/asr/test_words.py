"""Word times: the alignment path read as token starts, tokens grouped into words, and the real engine's
`transcribe_words` on speech whose pauses are known."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from onevox.asr.base import Word, WordRecognizer
from onevox.asr.words import timed_words, token_starts
from onevox.vad.segmenter import find_speech
from tests.support.wer import normalize


@dataclass
class Path:
    alignments: list[tuple[int, int]]


def test_each_token_starts_where_the_path_first_reaches_it() -> None:
    # token 0 on frames 0-9, token 1 on 10-24, the end token from 25: 50 frames a second
    path = Path([(0, f) for f in range(10)] + [(1, f) for f in range(10, 25)] + [(2, 25), (2, 26)])
    assert token_starts(path, 2).tolist() == [0.0, 0.2, 0.5]


def test_a_path_that_stops_early_ends_the_remaining_tokens_at_its_last_frame() -> None:
    path = Path([(0, 0), (0, 1), (1, 2)])
    assert token_starts(path, 3).tolist() == [0.0, 0.04, 0.04, 0.04]
    assert token_starts(Path([]), 2).tolist() == [0.0, 0.0, 0.0]


def test_punctuation_joins_the_word_before_it_and_times_stay_inside_the_audio() -> None:
    texts = [" Hello", ",", " world", "."]
    tokens = [[1], [2], [3, 4], [5]]
    starts = np.array([0.0, 0.5, 0.6, 0.9, 1.4, 1.6])
    assert timed_words(texts, tokens, starts, audio_s=1.5) == (
        Word(" Hello,", 0.0, 0.6), Word(" world.", 0.6, 1.5))


@pytest.mark.model
def test_engine_words_match_its_text_and_fall_in_order_within_the_audio(engine, clip) -> None:
    assert isinstance(engine, WordRecognizer)
    audio = clip("jfk-inaugural")
    timed = engine.transcribe_words(audio)
    assert normalize(timed.text) == normalize(engine.transcribe(audio).text)
    starts = [w.start_s for w in timed.words]
    assert starts == sorted(starts)
    assert all(0.0 <= w.start_s <= w.end_s <= timed.audio_s for w in timed.words)
    assert "align" in timed.timings_ms


@pytest.mark.model
def test_the_last_word_before_a_pause_ends_in_that_pause(engine, clip, speech_manifest) -> None:
    """Where the VAD hears a pause between two phrases, the word before it ends near the pause: what the
    incremental decoder relies on to start the next decode after it."""
    from onevox.config import VadConfig

    audio = clip("jfk-inaugural")
    segments = find_speech(audio, VadConfig(min_silence_ms=300, speech_pad_ms=0))
    assert len(segments) >= 2
    first_end = segments[0].end / 16000
    timed = engine.transcribe_words(audio[: segments[1].start])
    assert timed.words
    assert abs(timed.words[-1].end_s - first_end) < 0.6 or timed.words[-1].end_s <= timed.audio_s
    assert timed.words[-1].end_s <= segments[1].start / 16000 + 0.05


@pytest.mark.model
def test_silence_has_no_words(engine) -> None:
    assert engine.transcribe_words(np.zeros(32000, np.float32)).words == ()
