"""Word error rate on normalised text, the way the speech clips' README says to score them.

References come in mixed styles (LibriSpeech upper case, LibriVox lower case, JFK punctuated, LJ Speech with
digits and a spoken form in `alt_text`), so both sides go through Whisper's English normaliser first.

jiwer and whisper-normalizer come with the test extras (`pip install onevox[test]`), not with onevox itself:
`available()` says whether this installation can score, and `onevox bench` leaves WER out when it cannot.
tests/support/wer.py re-exports this module for the test suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

MISSING = "needs jiwer and whisper-normalizer (pip install 'onevox[test]')"


def available() -> bool:
    try:
        import jiwer  # noqa: F401
        import whisper_normalizer.english  # noqa: F401
    except ImportError:
        return False
    return True


@cache
def _normalizer() -> Callable[[str], str]:
    from whisper_normalizer.english import EnglishTextNormalizer

    normalizer: Callable[[str], str] = EnglishTextNormalizer()
    return normalizer


def normalize(text: str) -> str:
    """Lower case, no punctuation, numbers and spellings mapped the way Whisper's evaluation maps them."""
    return " ".join(_normalizer()(text).split())


@dataclass(frozen=True)
class WordErrors:
    errors: int  # substitutions + deletions + insertions
    ref_words: int  # words in the (normalised) reference

    @property
    def wer(self) -> float:
        if self.ref_words == 0:
            return 0.0 if self.errors == 0 else float("inf")
        return self.errors / self.ref_words


def word_errors(reference: str, hypothesis: str) -> WordErrors:
    """Errors of `hypothesis` against one reference, both normalised. An empty reference counts every
    hypothesis word as an insertion."""
    import jiwer

    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return WordErrors(errors=len(hyp.split()), ref_words=0)
    if not hyp:
        return WordErrors(errors=len(ref.split()), ref_words=len(ref.split()))
    out = jiwer.process_words(ref, hyp)
    return WordErrors(errors=out.substitutions + out.deletions + out.insertions, ref_words=len(ref.split()))


def best_errors(references: list[str], hypothesis: str) -> WordErrors:
    """Errors against whichever of `references` (e.g. a text and its spoken form) matches best."""
    return min((word_errors(r, hypothesis) for r in references), key=lambda e: (e.wer, e.errors))


def corpus_wer(results: list[WordErrors]) -> float:
    """Total errors over total reference words (long clips weigh more, as in the usual corpus WER)."""
    words = sum(r.ref_words for r in results)
    return sum(r.errors for r in results) / words if words else 0.0
