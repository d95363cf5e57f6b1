"""A stretch of speech decoded with each word's time, for subtitles and timestamped transcripts.

`WordRecognizer.transcribe_words` decodes one window and stops where the model stops; like the plain
`transcribe` loop, a decode that leaves a second or more of audio after its last word is continued from
that word's end (the model sometimes ends after the first of two sentences).
"""

from __future__ import annotations

import numpy as np

from onevox.asr.base import TimedTranscript, Word, WordRecognizer
from onevox.audio import SAMPLE_RATE

UNCOVERED_S = 1.0  # audio this long after the last word is decoded once more
MAX_PASSES = 4  # decodes per stretch at most (each continues after the previous one's last word)


def transcribe_timed(recognizer: WordRecognizer, audio: np.ndarray, *, prompt: str = "",
                     language: str | None = None) -> TimedTranscript:
    """Words with times in seconds from the start of `audio`; language as the first decode found it."""
    words: list[Word] = []
    first: TimedTranscript | None = None
    fallback = False
    context = prompt.strip()
    pos = 0
    uncovered = round(UNCOVERED_S * SAMPLE_RATE)
    for _ in range(MAX_PASSES):
        rest = audio[pos:]
        done = recognizer.transcribe_words(rest, prompt=context, language=language)
        first = first or done
        fallback = fallback or done.fallback
        if not done.words:
            break
        offset = pos / SAMPLE_RATE
        words.extend(Word(w.text, round(w.start_s + offset, 3), round(w.end_s + offset, 3))
                     for w in done.words)
        language = language or done.language or None
        context = f"{context} {done.text}".strip()
        step = round(done.words[-1].end_s * SAMPLE_RATE)
        if step <= 0 or rest.size - step < uncovered:
            break
        pos += step
    assert first is not None  # MAX_PASSES >= 1
    return TimedTranscript(words=tuple(words), audio_s=audio.size / SAMPLE_RATE, timings_ms=first.timings_ms,
                           fallback=fallback, language=first.language, language_prob=first.language_prob)
