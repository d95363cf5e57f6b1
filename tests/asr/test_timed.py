"""transcribe_timed: words with times across decodes that stop early (a word recognizer test double)."""

from __future__ import annotations

import numpy as np

from onevox.asr.base import TimedTranscript, Word
from onevox.asr.timed import transcribe_timed

RATE = 16000


class Scripted:
    """Answers each decode with the next scripted words (times relative to the audio it is given)."""

    model_name = "scripted"

    def __init__(self, *answers: tuple[Word, ...]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[float, str, str | None]] = []

    def transcribe_words(self, audio, *, prompt="", language=None, fallback=True, timed=True, speech=False,
                         known_s=0.0, abandon=None):
        self.calls.append((audio.size / RATE, prompt, language))
        words = self.answers.pop(0) if self.answers else ()
        return TimedTranscript(words=words, audio_s=audio.size / RATE, language="en", language_prob=0.9)


def test_a_decode_that_stops_early_is_continued_after_its_last_word():
    first = (Word(" One", 0.2, 0.5), Word(" two.", 0.5, 1.0))
    second = (Word(" Three", 0.3, 0.8),)
    model = Scripted(first, second)
    result = transcribe_timed(model, np.zeros(5 * RATE, np.float32), prompt="before")
    assert [(w.text, w.start_s, w.end_s) for w in result.words] == [
        (" One", 0.2, 0.5), (" two.", 0.5, 1.0), (" Three", 1.3, 1.8)]
    assert model.calls == [(5.0, "before", None), (4.0, "before One two.", "en"),
                           (3.2, "before One two. Three", "en")]
    assert result.language == "en" and result.language_prob == 0.9


def test_words_reaching_the_end_need_no_second_decode():
    model = Scripted((Word(" All", 0.1, 1.5), Word(" of it", 1.5, 2.4)))
    result = transcribe_timed(model, np.zeros(3 * RATE, np.float32))
    assert len(model.calls) == 1 and result.text == "All of it"


def test_no_words_is_an_empty_transcript():
    model = Scripted(())
    result = transcribe_timed(model, np.zeros(RATE, np.float32))
    assert result.words == () and len(model.calls) == 1
