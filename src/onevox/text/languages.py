"""What post-processing needs to know about the language of a dictation.

One `LanguageRules` per language code (Whisper's codes: "en", "de", "zh", ...). A code without rules of
its own, and "auto" before the language is known, get `GENERIC`: rules that are safe in any language.
"""

from __future__ import annotations

from dataclasses import dataclass

# Characters of scripts written without spaces between words (Han, kana; Hangul is spaced and not here),
# and the full-width punctuation that goes with them. Used where the language alone cannot say (auto).
_CJK_RANGES = ((0x3000, 0x303F), (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
               (0xF900, 0xFAFF), (0xFF00, 0xFF0F), (0xFF1A, 0xFF20), (0x20000, 0x2FA1F))


@dataclass(frozen=True)
class LanguageRules:
    code: str  # the language code these rules are for; "" for GENERIC
    fillers: tuple[str, ...]  # hesitation sounds removed when remove_fillers is on (never real words)
    capitalize: bool = True  # the script has capital letters (False: Chinese, Japanese)
    spaced: bool = True  # words are separated by spaces (False: no space is ever inserted)
    keep_space_before: str = ""  # punctuation a space may stand before (French typography: ; : ! ?)
    lower_first: bool = True  # capitalize = false may lower-case a first word (not German: nouns keep theirs)


# Filler lists hold only sounds that are never words of the language: Spanish "este" and "pues", German
# "also", French "ben" are fillers in speech but also ordinary words, so they are left to the user's list.
# English "er" is German "he" and Spanish "em" is Portuguese "in": each list is used for its language only.
_RULES = {
    "en": LanguageRules("en", ("um", "uh", "erm", "er", "ah", "hmm", "mm")),
    # not "mhm": it means yes
    "de": LanguageRules("de", ("äh", "ähm", "öh", "öhm", "ehm", "hm", "hmm"), lower_first=False),
    # A space before ; : ! ? is French typography (Whisper writes "Ça va ?"): kept as written, never added.
    "fr": LanguageRules("fr", ("euh", "heu", "euhm", "hum", "hmm", "bah"), keep_space_before=";:!?"),
    "es": LanguageRules("es", ("eh", "em", "ehm", "emm", "mmm", "hmm")),
    "zh": LanguageRules("zh", ("嗯", "呃", "额"), capitalize=False, spaced=False),
    "yue": LanguageRules("yue", ("嗯", "呃"), capitalize=False, spaced=False),
    "ja": LanguageRules("ja", ("えっと", "えーと", "あのー"), capitalize=False, spaced=False),
}
# Any language, or not known yet: only sounds that are no word in the languages above.
GENERIC = LanguageRules("", ("um", "uh", "erm", "hmm", "mm", "äh", "ähm", "euh"), lower_first=False)

KNOWN_LANGUAGES = tuple(_RULES)  # the languages with rules of their own


def rules_for(language: str) -> LanguageRules:
    """The rules for `language` ("de", "de-AT", "zh_CN", "auto", ...); GENERIC when it has none."""
    return _RULES.get(base_language(language), GENERIC)


def base_language(language: str) -> str:
    """"de-AT" -> "de", "ZH_cn" -> "zh", "auto" -> "" (not known)."""
    code = language.strip().lower().replace("_", "-").split("-", 1)[0]
    return "" if code == "auto" else code


def is_cjk(char: str) -> bool:
    """True for a Han, kana or full-width punctuation character (text that takes no spaces)."""
    point = ord(char)
    return any(lo <= point <= hi for lo, hi in _CJK_RANGES)
