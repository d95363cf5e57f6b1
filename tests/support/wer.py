"""WER for the test suite: onevox.bench.wer (Whisper's English normaliser, jiwer), plus scoring against a
manifest entry of tests/data/speech."""

from __future__ import annotations

from onevox.bench.wer import WordErrors, best_errors, corpus_wer, normalize, word_errors

__all__ = ["WordErrors", "clip_errors", "corpus_wer", "normalize", "word_errors"]


def clip_errors(clip: dict, hypothesis: str) -> WordErrors:
    """Errors against a manifest entry: its `text`, or its `alt_text` when that matches better."""
    return best_errors([clip["text"], *([clip["alt_text"]] if clip.get("alt_text") else [])], hypothesis)
