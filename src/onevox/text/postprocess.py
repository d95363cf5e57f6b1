"""Turn Whisper's raw text into what gets typed: pure functions driven by [post_processing].

Order matters and is fixed: annotations out, punctuation (when off), fillers out, loops collapsed and
silence phrases dropped, spoken punctuation ("comma", "new line": spoken.py, English with [commands]
on), then the user's replacements, the final full stop (when off), capitalisation and the trailing space.
Run twice, the result does not change (replacements and spoken commands aside: they may insert anything).

The dictation's language chooses the built-in fillers and silence phrases, whether the first letter is
capitalised and whether spaces are added (none in Chinese or Japanese); see languages.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from onevox.config import CommandsConfig, PostProcessingConfig
from onevox.errors import ConfigError
from onevox.text.hallucination import (
    collapse_repetitions,
    is_hallucination,
    is_letterless_loop,
    strip_annotations,
)
from onevox.text.languages import LanguageRules, base_language, is_cjk, rules_for
from onevox.text.spoken import applies, apply_spoken_commands

_NOT_IN_WORD = r"(?<![\w'’-])"  # whole words: "um" but not "uh-huh", "umbrella" or "drum's"
_NOT_IN_WORD_AFTER = r"(?![\w'’-])"
_CJK_ALONE = r"(?<![^\s,.!?;:，。！？、；：])"  # at the start, or after a space or punctuation
_CJK_ALONE_AFTER = r"(?![^\s,.!?;:，。！？、；：])"
_SPACE_AFTER_CJK_PUNCT = re.compile(r"([，。！？；：、])\s+")  # full-width marks carry their own space
_REPEATED_COMMA = re.compile(r"([,，、])(?:\s*[,，、])+")
_COMMA_BEFORE_STOP = re.compile(r"[,，、]\s*([.!?…。！？])")
_LEADING_PUNCT = re.compile(r"^[\s,.;:!?…，。、；：！？]+")
_TRAILING_COMMA = re.compile(r"[\s,;:，、；：]+$")
_EMPTY_PAIR = re.compile(r"¿\s*\?|¡\s*!")  # Spanish "¿eh?" once the filler is gone
_FINAL_PERIOD = re.compile(r"(?<!\.)[.。]$")  # one full stop at the very end, not an ellipsis
_SENTENCE_END = re.compile(r"(?:^|[.!?…。！？])\s*$")
# Words of the old default `fillers`: a config written by `onevox config init` before fillers were chosen
# per language holds this list, and means "the built-in list", not "English fillers in every language".
_OLD_DEFAULT_FILLERS = ("um", "uh", "erm", "er", "ah", "hmm", "mm")


@dataclass(frozen=True)
class _Rules:
    fillers: re.Pattern[str] | None
    replacements: re.Pattern[str] | None
    values: tuple[str, ...]  # replacement text per capturing group of `replacements`


def postprocess(text: str, cfg: PostProcessingConfig, language: str = "en",
                commands: CommandsConfig | None = None) -> str:
    """The text to type for one dictation in `language` (a Whisper code; "auto" when not known);
    "" means there is nothing to type. `commands`: the [commands] section (None: no spoken commands)."""
    lang = rules_for(language)
    fillers = fillers_for(cfg, language) if cfg.remove_fillers else ()
    rules = _rules(fillers, replacements_for(cfg, language), lang.spaced)
    text = " ".join(text.split())
    if cfg.hallucination_filter:
        text = " ".join(strip_annotations(text).split())
    if not cfg.punctuation:
        text = strip_punctuation(text)
    if rules.fillers is not None:
        text = _remove_fillers(text, rules.fillers, lang)
    if cfg.hallucination_filter:
        decoded, text = text, collapse_repetitions(text)
        if is_hallucination(text, language) or is_letterless_loop(decoded, text):
            return ""
    text = _tidy(text, lang)
    if applies(commands, language) and commands is not None:
        text = apply_spoken_commands(text, commands)
    if rules.replacements is not None:
        text = _replace(text, rules.replacements, rules.values)
    if not cfg.final_period:
        text = _FINAL_PERIOD.sub("", text)
    if cfg.capitalize and lang.capitalize:
        text = capitalize_first(text)
    elif not cfg.capitalize and lang.lower_first:
        text = lowercase_first(text)
    if cfg.trailing_space and text and not text[-1].isspace() and lang.spaced and not is_cjk(text[-1]):
        text += " "
    return text


def fillers_for(cfg: PostProcessingConfig, language: str) -> tuple[str, ...]:
    """The user's `fillers` when given (for every language), else the built-in list of `language`; then
    the fillers the user listed for this language ([post_processing.languages.CODE])."""
    builtin = rules_for(language).fillers
    common = builtin if not cfg.fillers or tuple(cfg.fillers) == _OLD_DEFAULT_FILLERS else cfg.fillers
    own = cfg.languages.get(base_language(language))
    return tuple(dict.fromkeys([*common, *(own.fillers if own else ())]))


def replacements_for(cfg: PostProcessingConfig, language: str) -> tuple[tuple[str, str], ...]:
    """The replacements of a dictation in `language`: [post_processing] replacements, with those of
    [post_processing.languages.CODE] added; the language's own wins for the same phrase (compared as the
    matching compares it: case and spacing aside)."""
    own = cfg.languages.get(base_language(language))
    if own is None or not own.replacements:
        return tuple(cfg.replacements.items())
    merged = {_phrase_key(phrase): (phrase, text) for phrase, text in cfg.replacements.items()}
    merged.update({_phrase_key(phrase): (phrase, text) for phrase, text in own.replacements.items()})
    return tuple(merged.values())


def _phrase_key(phrase: str) -> str:
    return " ".join(phrase.split()).casefold()


def join_segments(texts: list[str]) -> str:
    """One text from the texts of consecutive segments, single spaces between them (none between two
    pieces of Chinese or Japanese, which is written without spaces)."""
    out = ""
    for piece in texts:
        piece = piece.strip(" \t")
        if not piece:
            continue
        glued = not out or out.endswith("\n") or (is_cjk(out[-1]) and is_cjk(piece[0]))
        out += piece if glued else " " + piece
    return out


def strip_punctuation(text: str) -> str:
    """Drop punctuation, keeping apostrophes and hyphens inside words and separators inside numbers
    ("don't", "well-known", "3.5", "10:30")."""
    kept = []
    for i, c in enumerate(text):
        if not unicodedata.category(c).startswith("P"):
            kept.append(c)
            continue
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if (c in "'’-‐" and before.isalnum() and after.isalnum()) or \
                (c in ".,:" and before.isdigit() and after.isdigit()):
            kept.append(c)
    return " ".join("".join(kept).split())


def capitalize_first(text: str) -> str:
    """Upper-case the first letter, when only symbols or quotes come before it (not after a digit)."""
    for i, c in enumerate(text):
        if c.isalpha():
            upper = c.upper()
            return text[:i] + upper + text[i + 1:] if len(upper) == 1 else text
        if c.isalnum():
            return text
    return text


def lowercase_first(text: str) -> str:
    """Lower-case the first word's first letter (a terminal command), unless the word is written another way
    than capital-then-small letters: "I", "I'm", "NASA" and "iPhone" stay as they are."""
    match = re.search(r"[^\W\d_][\w'’-]*", text)
    if match is None or text[:match.start()].strip(" \"'“‘(¿¡"):
        return text
    word = match.group(0)
    letters = [c for c in word[1:] if c.isalpha()]
    if not word[0].isupper() or not letters or not all(c.islower() for c in letters) or "'" in word[:2] \
            or "’" in word[:2]:
        return text
    return text[:match.start()] + word[0].lower() + text[match.start() + 1:]


def _tidy(text: str, lang: LanguageRules) -> str:
    text = _space_before_punct(lang.keep_space_before).sub(r"\1", text)
    text = _EMPTY_PAIR.sub("", text)
    text = _REPEATED_COMMA.sub(r"\1", text)
    text = _COMMA_BEFORE_STOP.sub(r"\1", text)
    text = _LEADING_PUNCT.sub("", text)
    text = _TRAILING_COMMA.sub("", text)
    text = _SPACE_AFTER_CJK_PUNCT.sub(r"\1", text)  # last: the steps above may bring one to a space
    return " ".join(text.split())


@lru_cache(maxsize=8)
def _space_before_punct(kept: str) -> re.Pattern[str]:
    """Spaces before punctuation go, except before the marks in `kept` (French ; : ! ?)."""
    marks = "".join(c for c in ",.!?;:…，。！？；：、" if c not in kept)
    return re.compile(rf"\s+([{re.escape(marks)}])")


def _remove_fillers(text: str, pattern: re.Pattern[str], lang: LanguageRules) -> str:
    """Drop fillers with the commas around them; a filler that opened a sentence passes its capital on."""
    if not lang.spaced:  # nothing to re-space or re-capitalise in Chinese or Japanese
        return _tidy(pattern.sub("", text), lang)
    out: list[str] = []
    last = 0
    capitalize_next = False
    for match in pattern.finditer(text):
        kept = text[last:match.start()]
        if capitalize_next:
            kept = capitalize_first(kept)
        out.append(kept + " ")
        starts_sentence = bool(_SENTENCE_END.search("".join(out).rstrip()))
        capitalize_next = starts_sentence and match.group("word")[0].isupper()
        last = match.end()
    rest = text[last:]
    out.append(capitalize_first(rest) if capitalize_next else rest)
    return _tidy("".join(out), lang)


def _replace(text: str, pattern: re.Pattern[str], values: tuple[str, ...]) -> str:
    def value(match: re.Match[str]) -> str:
        # each phrase is one group of the alternation, so a match always has a lastindex: the phrase's
        return values[match.lastindex - 1] if match.lastindex else match.group(0)

    return pattern.sub(value, text)


@lru_cache(maxsize=16)
def _rules(fillers: tuple[str, ...], replacements: tuple[tuple[str, str], ...], spaced: bool) -> _Rules:
    filler_words = sorted({f.strip() for f in fillers if f.strip()}, key=len, reverse=True)
    filler_re = None
    if filler_words:
        words = "|".join(_phrase(f) for f in filler_words)
        if spaced:
            filler_re = re.compile(rf",?\s*{_NOT_IN_WORD}(?P<word>{words}){_NOT_IN_WORD_AFTER}(?:\s*,)?",
                                   re.IGNORECASE)
        else:  # no spaces mark a word: a filler is one that stands alone between punctuation
            filler_re = re.compile(rf"{_CJK_ALONE}(?P<word>{words}){_CJK_ALONE_AFTER}[，、,]?")
    if not replacements:
        return _Rules(filler_re, None, ())
    if any(not phrase.strip() for phrase, _ in replacements):
        raise ConfigError("[post_processing]", "post_processing.replacements",
                          "a phrase to replace is empty; remove it or write the words to match")
    ordered = sorted(replacements, key=lambda kv: len(kv[0]), reverse=True)
    groups = [f"({_replacement_pattern(phrase, value)})" for phrase, value in ordered]
    return _Rules(filler_re, re.compile("|".join(groups), re.IGNORECASE), tuple(v for _, v in ordered))


def _phrase(words: str) -> str:
    return r"\s+".join(re.escape(w) for w in words.split())


def _replacement_pattern(phrase: str, value: str) -> str:
    phrase = phrase.strip()
    core = _phrase(phrase)
    # whole words; Chinese and Japanese have no word boundaries, so a phrase in them matches anywhere
    if (phrase[0].isalnum() or phrase[0] == "_") and not is_cjk(phrase[0]):
        core = r"(?<!\w)" + core
    if (phrase[-1].isalnum() or phrase[-1] == "_") and not is_cjk(phrase[-1]):
        core += r"(?!\w)"
    if not value.strip() and "\n" in value:
        # "new line" -> "\n": take the spaces around it and the punctuation Whisper put after it
        core = r"[ \t]*" + core + r"[,.;:]?[ \t]*"
    return core
