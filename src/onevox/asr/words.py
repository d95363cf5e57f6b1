"""Word timings from Whisper's cross-attention: the tokens of a decode are aligned to the encoder frames
(CTranslate2's `align`, which applies the model's alignment heads and a DTW path), and each word starts at
the frame where its first token's path begins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from onevox.asr.base import Word

FRAMES_PER_S = 50.0  # encoder output frames per second of audio (two mel frames each)


class AlignmentResult(Protocol):
    """What we read of a CTranslate2 WhisperAlignmentResult."""

    @property
    def alignments(self) -> Sequence[tuple[int, int]]: ...


def token_starts(alignment: AlignmentResult, n_tokens: int) -> np.ndarray:
    """Seconds at which each of `n_tokens` aligned tokens begins, plus one entry for where the last one ends
    (the path moves on to the end token there)."""
    path = np.asarray(alignment.alignments, dtype=np.int64).reshape(-1, 2)
    if path.size == 0:
        return np.zeros(n_tokens + 1)
    text_index, time_index = path[:, 0], path[:, 1]
    first = np.ones(len(text_index), dtype=bool)
    first[1:] = np.diff(text_index) != 0
    starts = time_index[first] / FRAMES_PER_S
    if starts.size < n_tokens + 1:  # a path that never reached the end token: the rest ends at its last frame
        starts = np.concatenate([starts, np.full(n_tokens + 1 - starts.size, time_index[-1] / FRAMES_PER_S)])
    return starts[: n_tokens + 1]


def timed_words(words: Sequence[str], word_tokens: Sequence[Sequence[int]], starts: np.ndarray,
                audio_s: float) -> tuple[Word, ...]:
    """Words (as the tokenizer split them) with times: start of the first token to start of the next word,
    never past the audio's end."""
    out: list[Word] = []
    position = 0
    for text, tokens in zip(words, word_tokens, strict=True):
        begin, position = position, position + len(tokens)
        stripped = text.strip()
        if not stripped:
            continue
        start = min(float(starts[begin]), audio_s)
        end = round(min(max(float(starts[position]), start), audio_s), 3)
        if out and not any(ch.isalnum() for ch in stripped):  # "." or "," belongs to the word before it
            out[-1] = Word(out[-1].text + text.rstrip(), out[-1].start_s, end)
            continue
        out.append(Word(text.rstrip(), round(start, 3), end))
    return tuple(out)
