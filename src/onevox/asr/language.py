"""Which language a decode runs in: fixed by the user, or detected once and then kept. Pure functions.

`[model] language` is a code ("de") or "auto"; `[model] languages` lists the languages the user speaks.
With "auto" the model's language scores are masked to that list (all of Whisper's languages when it is
empty) and renormalised over it; a detection less sure than `min_probability` is not trusted and the first
listed language is used instead. One listed language means there is nothing to detect. The daemon detects
once per dictation, from its first speech, and decodes the rest of the dictation in that language: Whisper
detecting per window flips between languages (and into translating) on short or unclear stretches.

Detection reads the encoder output of the short window itself, not the short window laid over the silent
30 s one that the decoder gets: the silence's encoder output pulls the language scores towards English
(measured on base: English on 9 of 10 non-English clips with the padded output; the unpadded one agrees
with the full 30 s window on all clips where the full window is sure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from onevox.compat import whisper_language_codes
from onevox.errors import ModelError


@dataclass(frozen=True)
class LanguageOptions:
    # a detection at least this sure (probability renormalised over the allowed languages) is taken as it is;
    # below it the two likeliest languages are both decoded and the likelier decode wins. Whisper base gives
    # 0.9+ on clear speech of 2 s or more, 0.2-0.8 where it is guessing
    sure_probability: float = 0.8
    # a language given less than this is not trusted: the first listed language is used instead (with no
    # list, the detection stands)
    min_probability: float = 0.15


@dataclass(frozen=True)
class LanguageChoice:
    language: str  # Whisper code the decode runs in
    probability: float | None  # detection's confidence, renormalised over the allowed set; None: not detected


@dataclass(frozen=True)
class LanguagePolicy:
    fixed: str | None  # the one language to decode in, or None to detect
    allowed: tuple[str, ...]  # detection is restricted to these (empty: every language); first = fallback
    options: LanguageOptions = LanguageOptions()

    def candidates(self, scores: Sequence[tuple[str, float]]) -> list[LanguageChoice]:
        """The languages worth decoding for `scores` (the model's (code, probability) pairs): one when the
        language is fixed or the detection is sure, else the two likeliest."""
        if self.fixed is not None:
            return [LanguageChoice(self.fixed, None)]
        ranked = rank_languages(scores, self.allowed)
        trusted = [c for c in ranked[:2] if (c.probability or 0.0) >= self.options.min_probability]
        if not trusted:
            if self.allowed:
                first = next((c for c in ranked if c.language == self.allowed[0]), None)
                return [first or LanguageChoice(self.allowed[0], 0.0)]
            return ranked[:1]
        if (trusted[0].probability or 0.0) >= self.options.sure_probability:
            return trusted[:1]
        return trusted


def language_policy(language: str, languages: Sequence[str], multilingual: bool, model_name: str,
                    options: LanguageOptions | None = None) -> LanguagePolicy:
    """The policy for `[model] language` and `languages` on a model; ModelError for codes Whisper lacks or a
    language an English-only model cannot decode."""
    opts = options or LanguageOptions()
    listed = tuple(dict.fromkeys(code.strip().lower() for code in languages if code.strip()))
    if not multilingual:
        wanted = {language, *listed} - {"en", "auto"}
        if wanted:
            raise ModelError(f"model {model_name} understands English only, but the config asks for "
                             f"{', '.join(sorted(wanted))}: set model.language to \"en\" or choose a "
                             "multilingual model (e.g. `onevox models install base`)")
        return LanguagePolicy("en", (), opts)
    codes = whisper_language_codes()
    for code in (language, *listed):
        if code != "auto" and code not in codes:
            raise ModelError(f"{code!r} (in model.language or model.languages) is not a Whisper language "
                             "code (e.g. en, de, fr, zh)")
    if language != "auto":
        return LanguagePolicy(language, (language,), opts)
    if len(listed) == 1:
        return LanguagePolicy(listed[0], listed, opts)
    return LanguagePolicy(None, listed, opts)


def rank_languages(scores: Sequence[tuple[str, float]], allowed: Sequence[str]) -> list[LanguageChoice]:
    """The allowed languages (all when `allowed` is empty), likeliest first, with their probability
    renormalised over the allowed ones."""
    kept = [(code, p) for code, p in scores if not allowed or code in allowed]
    total = sum(p for _, p in kept)
    if total <= 0:
        return []
    return [LanguageChoice(code, p / total) for code, p in sorted(kept, key=lambda pair: -pair[1])]
