"""onevox.bench.wer: the scoring `onevox bench` and the suite share."""

from __future__ import annotations

from onevox.bench import wer
from tests.support.wer import clip_errors


def test_normalised_scoring() -> None:
    assert wer.available()
    assert wer.word_errors("Ask not, what your COUNTRY can do!", "ask not what your country can do").wer == 0
    assert wer.word_errors("red green blue white", "red green white").wer == 0.25
    assert wer.word_errors("", "words here").errors == 2


def test_best_reference_and_clip_entry() -> None:
    clip = {"text": "In 1813", "alt_text": "In eighteen thirteen"}
    assert clip_errors(clip, "in eighteen thirteen").errors == 0
    assert wer.best_errors(["a b c", "a b d"], "a b d").errors == 0
    assert wer.corpus_wer([wer.WordErrors(1, 10), wer.WordErrors(0, 30)]) == 1 / 40
