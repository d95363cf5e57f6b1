"""Window sizing, decode budgets and loop detection (pure functions, no model)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from onevox.asr.window import (
    FULL_FRAMES,
    MAX_NEW_TOKENS,
    WindowOptions,
    ct2_max_length,
    find_loop,
    max_new_tokens,
    split_points,
    token_budget,
    uses_full_window,
    window_frames,
    words_of,
)

OPTS = WindowOptions()


def ct2_generated_limit(max_length: int, prompt_len: int) -> int:
    """What CTranslate2's Whisper.generate allows (models/whisper.cc: min(L / 2, L - start_step))."""
    return min(max_length // 2, max_length - (prompt_len - 1))


def test_window_is_audio_plus_margin_and_even():
    frames = window_frames(16000 * 3, OPTS)  # 300 frames of audio + 50 of margin
    assert frames == 350
    assert window_frames(16000 * 3 + 1, OPTS) == 400  # rounded up to the next 0.5 s bucket


def test_short_audio_gets_the_minimum_window():
    assert window_frames(160, OPTS) == 100
    assert window_frames(0, WindowOptions(min_window_s=0.0, margin_s=0.0)) == 0


@given(st.integers(min_value=0, max_value=16000 * 60))
def test_window_lengths_come_in_few_buckets(n):
    """Each distinct length is a shape oneDNN keeps compiled kernels for: at most 60 of them."""
    assert window_frames(n, OPTS) % 50 == 0


def test_window_never_exceeds_the_full_window():
    assert window_frames(16000 * 29, OPTS) == 2950
    assert window_frames(16000 * 29 + 1, OPTS) == FULL_FRAMES
    assert window_frames(int(16000 * 29.5), OPTS) == FULL_FRAMES
    assert window_frames(16000 * 40, OPTS) == FULL_FRAMES
    assert uses_full_window(16000 * 30, OPTS)
    assert not uses_full_window(16000 * 5, OPTS)


@given(st.integers(min_value=0, max_value=16000 * 60))
def test_window_frames_is_even_bounded_and_covers_the_audio(n):
    frames = window_frames(n, OPTS)
    assert frames % 2 == 0
    assert frames <= FULL_FRAMES
    assert frames * 160 >= min(n, FULL_FRAMES * 160)


def test_token_budget_grows_with_duration_and_is_capped():
    assert token_budget(0.0, OPTS) == 10
    assert token_budget(1.5, OPTS) == 25
    assert token_budget(10.0, OPTS) > token_budget(2.0, OPTS)
    assert token_budget(600.0, OPTS) == MAX_NEW_TOKENS


@given(st.integers(min_value=1, max_value=MAX_NEW_TOKENS), st.integers(min_value=2, max_value=230))
def test_ct2_max_length_allows_exactly_the_tokens_asked_for(new_tokens, prompt_len):
    length = ct2_max_length(new_tokens, prompt_len)
    assert length <= 448
    assert ct2_generated_limit(length, prompt_len) == min(new_tokens, max_new_tokens(prompt_len))


def test_max_new_tokens_shrinks_with_a_long_prompt():
    assert max_new_tokens(2) == MAX_NEW_TOKENS
    assert max_new_tokens(400) == 49
    assert max_new_tokens(500) == 0


def test_split_points_cut_in_the_quietest_frame_before_the_limit():
    audio = np.ones(100, np.float32)
    audio[58:62] = 0.0  # a pause (one whole frame) inside the search range of the first piece
    assert split_points(audio, piece=70, search=20, frame=4) == [(0, 60), (60, 100)]


def test_split_points_without_a_pause_cut_near_the_limit():
    audio = np.ones(25, np.float32)
    ranges = split_points(audio, piece=10, search=2, frame=2)
    assert ranges == [(0, 9), (9, 18), (18, 25)]


def test_split_points_short_audio_is_one_piece():
    assert split_points(np.ones(8, np.float32), piece=8) == [(0, 8)]
    assert split_points(np.zeros(0, np.float32)) == []
    with pytest.raises(ValueError):
        split_points(np.ones(8, np.float32), piece=0)


@given(st.integers(min_value=1, max_value=5000), st.integers(min_value=50, max_value=700))
def test_split_points_cover_the_audio_in_order_within_the_limit(n, piece):
    audio = np.random.default_rng(n).normal(size=n).astype(np.float32)
    ranges = split_points(audio, piece=piece, search=40, frame=8)
    assert ranges[0][0] == 0 and ranges[-1][1] == n
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    assert all(0 < hi - lo <= piece for lo, hi in ranges)


def test_words_ignore_case_and_punctuation():
    assert words_of("In 1813, in 1813.") == ["in", "1813", "in", "1813"]
    assert words_of("Don't stop!") == ["don't", "stop"]


@pytest.mark.parametrize("text", [
    "In 1813, in 1813, in 1813,",
    "In 1813. In 1813.",
    "Go forward 10 meters. Go forward 10 meters.",
    "In 18 13 13 13 13",
    "The end. Thank you. Thank you.",
    ". . . . you you you you",
])
def test_loops_are_found(text):
    assert find_loop(text, OPTS) is not None


@pytest.mark.parametrize("text", [
    "",
    "In 1813.",
    "And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your "
    "country.",
    "It had had no effect.",
    "No, no, no.",
    "Eight of spades, four of clubs, seven of hearts.",
])
def test_ordinary_speech_is_not_a_loop(text):
    assert find_loop(text, OPTS) is None


def test_find_loop_reports_where_and_how_often():
    assert find_loop("well go on go on go on", OPTS) == (1, 2, 3)
    assert find_loop("a a a b", WindowOptions(word_repeats=3)) == (0, 1, 3)
