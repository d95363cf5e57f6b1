"""What a corrected dictation teaches: word-level substitutions found by aligning the text onevox typed with
the text the user says was right. Pure functions; the store (onevox.vocabulary) counts and keeps them.

The two texts are split into words and aligned on a normalised form (case folded, punctuation around a word
removed), so that a changed comma or capital does not break the alignment. Each span replaced by another
span of one to three words becomes a rule "wrong phrase -> right phrase" ("cooper netties" -> "Kubernetes"),
the right side as the user wrote it. Insertions and deletions teach nothing about what the model mishears,
and neither does a correction that rewrites most of the text (a change of mind, not a misheard word). A word
whose only change is its case teaches its spelling ("github" -> "GitHub"), except at the start of a sentence,
where the capital is grammar, not spelling.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher

from onevox.config import PostProcessingConfig

MAX_SPAN_WORDS = 3  # longest phrase on either side of a rule
# at least this share of the original's words must be kept for a correction to teach anything
MIN_KEPT_SHARE = 0.5
_SENTENCE_ENDS = ".!?…。！？"


@dataclass(frozen=True)
class Rule:
    wrong: str  # the phrase as the model writes it, normalised (lower case, single spaces)
    right: str  # what the user wrote instead, their spelling and case


@dataclass(frozen=True)
class _Word:
    core: str  # the word without the punctuation around it
    norm: str  # the core, case folded
    starts_sentence: bool


def derive_rules(original: str, corrected: str) -> list[Rule]:
    """The substitutions that turn `original` into `corrected`, in order; [] when there is nothing
    word-level to learn."""
    before, after = words_of(original), words_of(corrected)
    if not before or not after:
        return []
    matcher = SequenceMatcher(None, [w.norm for w in before], [w.norm for w in after], autojunk=False)
    blocks = matcher.get_opcodes()
    kept = sum(i2 - i1 for tag, i1, i2, _j1, _j2 in blocks if tag == "equal")
    if kept < MIN_KEPT_SHARE * len(before):
        return []
    rules: list[Rule] = []
    for tag, i1, i2, j1, j2 in blocks:
        if tag == "replace" and i2 - i1 <= MAX_SPAN_WORDS and j2 - j1 <= MAX_SPAN_WORDS:
            wrong = " ".join(w.norm for w in before[i1:i2])
            right = " ".join(w.core for w in after[j1:j2])
            rules.append(Rule(wrong, right))
        elif tag == "equal":
            rules.extend(Rule(b.norm, a.core) for b, a in zip(before[i1:i2], after[j1:j2], strict=True)
                         if b.core != a.core and not a.starts_sentence and not b.starts_sentence)
    return _unique(rules)


def words_of(text: str) -> list[_Word]:
    """The words of `text`; a token that is only punctuation ("-", "...") is not a word."""
    out: list[_Word] = []
    sentence_start = True
    for token in text.split():
        core = _strip_punctuation(token)
        if core:
            out.append(_Word(core, " ".join(core.casefold().split()), sentence_start))
            sentence_start = False
        if token[-1] in _SENTENCE_ENDS:
            sentence_start = True
    return out


def normalise_phrase(phrase: str) -> str:
    """A phrase as rules store their wrong side: words without outer punctuation, case folded."""
    return " ".join(w.norm for w in words_of(phrase))


def with_learned(cfg: PostProcessingConfig, learned: Mapping[str, str]) -> PostProcessingConfig:
    """`cfg` with learned substitutions added to its replacements; the user's own replacement of the same
    phrase wins."""
    if not learned:
        return cfg
    own = {phrase.strip().casefold() for phrase in cfg.replacements}
    extra = {wrong: right for wrong, right in learned.items() if wrong.casefold() not in own}
    if not extra:
        return cfg
    return dataclasses.replace(cfg, replacements={**cfg.replacements, **extra})


def _strip_punctuation(token: str) -> str:
    start, end = 0, len(token)
    while start < end and _is_outer_mark(token[start]):
        start += 1
    while end > start and _is_outer_mark(token[end - 1]):
        end -= 1
    return token[start:end]


def _is_outer_mark(char: str) -> bool:
    # punctuation and quotes around a word; symbols such as "+" (C++) or "#" (C#) are part of it
    return unicodedata.category(char).startswith("P") and char not in "#@&%"


def _unique(rules: list[Rule]) -> list[Rule]:
    seen: set[Rule] = set()
    out = []
    for rule in rules:
        if rule not in seen and rule.wrong != rule.right:
            seen.add(rule)
            out.append(rule)
    return out
