"""Encoder window sizing, decode budgets and repetition-loop detection: pure functions, no model.

Whisper was trained on 30 s windows. Encoding only the audio (plus a margin) is several times faster, but a
decoder that sees a short encoder output does not know where the audio ends and loops ("In 1813, in
1813, ..."). The engine therefore pads the short encoder output with the encoder output of a silent 30 s
window (see `whisper.py`); what is here bounds how much a decode may cost and recognises the loops that still
get through, so the engine can fall back to the full window.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from onevox.audio import SAMPLE_RATE

HOP_LENGTH = 160  # audio samples per mel frame
FULL_FRAMES = 3000  # mel frames in Whisper's 30 s window
FULL_SAMPLES = FULL_FRAMES * HOP_LENGTH
MAX_DECODER_POSITIONS = 448  # Whisper's text context: prompt + generated tokens
MAX_NEW_TOKENS = MAX_DECODER_POSITIONS // 2  # CTranslate2 never generates more than half of max_length


@dataclass(frozen=True)
class WindowOptions:
    margin_s: float = 0.5  # silence encoded after the audio, so its last word keeps its context
    # window lengths are rounded up to a multiple of this: each distinct length is a tensor shape for which
    # oneDNN (inside CTranslate2) caches compiled kernels for good, so unrounded lengths grew the daemon by
    # ~0.5 MB per new dictation length (+105 MB over 200); rounded, there are at most 60 shapes
    bucket_s: float = 0.5
    min_window_s: float = 1.0  # shortest encoder window (very short clips get this much)
    tokens_per_s: float = 10.0  # decode budget per second of audio; read speech is 2-4 tokens/s
    base_tokens: int = 10  # decode budget on top of the per-second part
    word_repeats: int = 4  # a single word this many times in a row is a loop
    phrase_repeats: int = 2  # a phrase of 2+ words this many times in a row is a loop
    # A short window is a slightly different input than the one Whisper was trained on; on clean speech it
    # gives the same text, on hard audio it is less sure of itself. Such results are redone on the full
    # window: a trusted short-window decode has an average log-probability (timestamp tokens included)
    # above this (measured: -0.1 to -0.65 on clean speech, below -1.1 where the short window misheard)...
    min_avg_logprob: float = -0.8
    # ...and a no-speech probability below this (short windows: 0.05-0.33 on speech, 0.9+ on silence)...
    max_no_speech: float = 0.45
    # ...unless the text is decoded this confidently: an unusual voice (synthetic, or a close microphone)
    # can score 0.8 "no speech" on a crisp sentence at -0.13, and redoing that on the full window costs 5x
    confident_logprob: float = -0.3
    # a short-window result without words is accepted as silence when its no-speech probability is above this
    silence_no_speech: float = 0.8
    # timestamps this far past the window's end mean the decoder is inventing text
    timestamp_slack_s: float = 1.0
    # audio up to this long is decoded without timestamps: it holds one short sentence, whose two timestamp
    # tokens only cost decoder steps (~6 ms of ~50 for 1 s of speech); longer audio needs them to go on
    # after a sentence the model ended early
    plain_max_s: float = 2.0


def window_frames(n_samples: int, opts: WindowOptions) -> int:
    """Mel frames to encode for `n_samples` of audio: the audio, the margin, at least `min_window_s`,
    even (the encoder halves the frame count), at most the full window."""
    frames = math.ceil(n_samples / HOP_LENGTH) + round(opts.margin_s * SAMPLE_RATE / HOP_LENGTH)
    frames = max(frames, round(opts.min_window_s * SAMPLE_RATE / HOP_LENGTH))
    bucket = max(2, round(opts.bucket_s * SAMPLE_RATE / HOP_LENGTH) // 2 * 2)
    frames = math.ceil(frames / bucket) * bucket
    return min(frames, FULL_FRAMES)


def uses_full_window(n_samples: int, opts: WindowOptions) -> bool:
    """A short window saves nothing once it would be (nearly) as long as the full one."""
    return window_frames(n_samples, opts) >= FULL_FRAMES


def token_budget(duration_s: float, opts: WindowOptions) -> int:
    """New tokens a short-window decode may produce before it counts as a runaway."""
    return min(MAX_NEW_TOKENS, math.ceil(opts.base_tokens + opts.tokens_per_s * max(duration_s, 0.0)))


def max_new_tokens(prompt_len: int) -> int:
    """The most new tokens a decode can produce after a prompt of `prompt_len` tokens."""
    return max(0, min(MAX_NEW_TOKENS, MAX_DECODER_POSITIONS - (prompt_len - 1)))


def ct2_max_length(new_tokens: int, prompt_len: int) -> int:
    """The `max_length` to pass to CTranslate2's Whisper.generate so that it stops after `new_tokens`.

    CTranslate2 generates at most min(max_length / 2, max_length - (prompt_len - 1)) tokens (the tokens
    before the last prompt token count as already decoded)."""
    new_tokens = min(new_tokens, max_new_tokens(prompt_len))
    return min(MAX_DECODER_POSITIONS, max(2 * new_tokens, new_tokens + prompt_len - 1))


def split_points(audio: np.ndarray, piece: int = FULL_SAMPLES, search: int = 5 * SAMPLE_RATE,
                 frame: int = 320) -> list[tuple[int, int]]:
    """(start, end) sample ranges of at most `piece` samples covering `audio`. Whisper sees 30 s at most;
    each cut goes to the quietest `frame` in the last `search` samples of a piece, so that it falls in a
    pause rather than in a word whenever there is one."""
    if piece <= 0 or frame <= 0:
        raise ValueError("piece and frame must be positive")
    search = max(frame, min(search, piece))
    ranges: list[tuple[int, int]] = []
    start = 0
    while audio.size - start > piece:
        lo = start + piece - search
        frames = audio[lo:lo + search // frame * frame].reshape(-1, frame)
        cut = lo + int(np.argmin(np.square(frames).sum(axis=1))) * frame + frame // 2
        ranges.append((start, cut))
        start = cut
    if audio.size > start:
        ranges.append((start, audio.size))
    return ranges


_WORD = re.compile(r"[\w']+")  # any script: a loop in Hindi or Greek letters is a loop too


def words_of(text: str) -> list[str]:
    """Lower-case words without punctuation: what loop detection compares."""
    return _WORD.findall(text.lower())


def find_loop(text: str, opts: WindowOptions) -> tuple[int, int, int] | None:
    """The first repetition loop in `text` as (start word, phrase length, repeats), or None.

    A loop is one word repeated `word_repeats` times in a row, or a phrase of two or more words repeated
    `phrase_repeats` times in a row ("go forward ten meters go forward ten meters"). Real speech does this
    rarely; when it does, the engine's answer is a slower full-window decode, never a lost word."""
    words = words_of(text)
    n = len(words)
    for start in range(n):
        for size in range(1, (n - start) // 2 + 1):
            needed = opts.word_repeats if size == 1 else opts.phrase_repeats
            if start + size * needed > n:
                continue
            repeats = _repeats_at(words, start, size)
            if repeats >= needed:
                return start, size, repeats
    return None


def _repeats_at(words: list[str], start: int, size: int) -> int:
    phrase = words[start:start + size]
    repeats = 1
    pos = start + size
    while words[pos:pos + size] == phrase:
        repeats += 1
        pos += size
    return repeats
