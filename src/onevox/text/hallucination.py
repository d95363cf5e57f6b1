"""What Whisper writes when there is nothing to hear, and the loops it falls into.

Whisper was trained on subtitles, so on silence or noise it tends to produce the phrases that end videos
("Thank you.", "Thanks for watching!", "Subtitles by ..."), a lone "you", or annotations such as
"[BLANK_AUDIO]" and "(music)". These are only dropped when they are the WHOLE text: "Thank you for coming"
is real speech and stays. The phrases, per language, are in phrases.py.
"""

from __future__ import annotations

import re
import unicodedata
import zlib

from onevox.text.languages import base_language, is_cjk
from onevox.text.phrases import BY_LANGUAGE, CREDIT_SITES, CREDITS, ENGLISH, SOUND_WORDS


def _normalize(text: str) -> str:
    """Lower case words only: punctuation, symbols and brackets become spaces (apostrophes vanish)."""
    text = text.lower().replace("'", "").replace("’", "")
    kept = [c if unicodedata.category(c)[0] in "LN" else " " for c in text]
    return " ".join("".join(kept).split())


def _compact(norm: str) -> str:
    """Chinese and Japanese are compared without spaces (Whisper puts them in or leaves them out)."""
    return "".join(norm.split()) if any(is_cjk(c) for c in norm) else norm


# Compared after `_normalize` (and `_compact`): per language, that language's phrases and the English ones.
SILENCE_PHRASES = frozenset(_normalize(p) for p in ENGLISH)
_BY_LANGUAGE = {code: SILENCE_PHRASES | {_compact(_normalize(p)) for p in phrases}
                for code, phrases in BY_LANGUAGE.items()}
_ANY_LANGUAGE = frozenset[str]().union(*_BY_LANGUAGE.values())  # "auto": the language is not known yet


def is_hallucination(text: str, language: str = "en") -> bool:
    """True when `text` as a whole is something Whisper invents in silence (or nothing at all), in the
    dictation's `language` ("auto" or "": any language's phrases count)."""
    norm = _normalize(text)
    if not norm:
        return True
    code = base_language(language)
    phrases = _BY_LANGUAGE.get(code, SILENCE_PHRASES) if code else _ANY_LANGUAGE
    key = _compact(_shortest_period(norm))
    return key in phrases or any(c.match(key) for c in _credits(code)) or bool(CREDIT_SITES.search(norm))


def _credits(code: str) -> tuple[re.Pattern[str], ...]:
    if not code:
        return tuple(CREDITS.values())
    return (CREDITS["en"], CREDITS[code]) if code in CREDITS else (CREDITS["en"],)


def _shortest_period(norm: str) -> str:
    """The phrase `norm` repeats, if it is one phrase said over and over ("thank you thank you")."""
    words = norm.split()
    for n in range(1, len(words) // 2 + 1):
        if len(words) % n == 0 and words == words[:n] * (len(words) // n):
            return " ".join(words[:n])
    return norm


# Bracketed annotations: anything in square brackets, and parenthesised/starred groups whose words name a
# non-speech sound. Real parentheses in dictated text ("(see page 4)") are kept.
_SQUARE = re.compile(r"\[[^\[\]]*\]")
_GROUP = re.compile(r"\(([^()]*)\)|\*([^*]*)\*|（([^（）]*)）")  # full-width brackets: Chinese, Japanese
_MUSIC_SIGNS = re.compile(r"[♪♫♬♩]+")
_SOUND_WORDS = frozenset({
    "music", "musical", "applause", "applauding", "laughter", "laughs", "laughing", "laugh", "chuckles",
    "chuckling", "giggles", "silence", "silent", "noise", "noises", "static", "inaudible", "indistinct",
    "unintelligible", "coughs", "coughing", "cough", "sighs", "sigh", "sighing", "breathing", "breath",
    "breathes", "sniffs", "clears", "throat", "blank", "audio", "foreign", "language", "speaking",
    "upbeat", "dramatic", "soft", "gentle", "playing", "plays", "continues", "ends", "beep", "beeps",
    "bell", "rings", "ringing", "door", "footsteps", "wind", "rain", "thunder", "birds", "chirping",
    "crowd", "cheering", "cheers", "clapping", "claps", "whistling", "humming", "hums", "mumbles",
    "mumbling", "whispers", "whispering", "crying", "sobbing", "groans", "grunts", "screams", "gasps",
    "yawns", "typing", "clicking", "keyboard", "background", "outro", "intro", "instrumental", "song",
    "singing", "sings", "no", "speech", "and", "the", "a", "in", "of", "with",
})


def _is_sound_annotation(inner: str) -> bool:
    words = _normalize(inner).split()
    return 0 < len(words) <= 5 and all(w in _SOUND_WORDS or w in SOUND_WORDS for w in words) and \
        any(w not in {"no", "and", "the", "a", "in", "of", "with"} for w in words)


def strip_annotations(text: str) -> str:
    """Remove non-speech annotations such as [BLANK_AUDIO], (music), *laughs* and music signs."""
    text = _SQUARE.sub(" ", text)
    text = _GROUP.sub(lambda m: " " if _is_sound_annotation("".join(filter(None, m.groups())))
                      else m.group(0), text)
    return _MUSIC_SIGNS.sub(" ", text)


MAX_LOOP_WORDS = 40  # longest phrase looked for in a loop (Whisper loops a sentence at most)


def _word_key(token: str) -> str:
    return _normalize(token)


def _repeats(keys: list[str], i: int, n: int) -> int:
    """How many times keys[i:i+n] occurs back to back from position i."""
    count = 1
    while keys[i + count * n:i + (count + 1) * n] == keys[i:i + n]:
        count += 1
    return count


def _min_repeats(n: int) -> int:
    # A word said 3 times ("no, no, no") is ordinary speech; 4 times is a loop. Phrases loop at 3.
    return 4 if n == 1 else 3


def _collapse_once(tokens: list[str]) -> list[str]:
    keys = [_word_key(t) for t in tokens]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for n in range(1, min(MAX_LOOP_WORDS, (len(tokens) - i) // 2) + 1):
            if keys[i + n] != keys[i] or not any(keys[i:i + n]):
                continue
            count = _repeats(keys, i, n)
            if count >= _min_repeats(n):
                out.extend(tokens[i:i + n])
                i += count * n
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


# Loops with no spaces to split on ("0.0.0.0.0...", "我们我们我们..."): a unit of 2-12 characters five
# times or more, or one character ten times or more. Fewer is left alone: "1.000.000.000" is a number and
# "哈哈哈" a laugh.
_CHARACTER_LOOP = re.compile(r"(.{2,12}?)\1{4,}|(.)\2{9,}")


def _collapse_characters(token: str) -> str:
    return _CHARACTER_LOOP.sub(lambda m: m.group(1) or m.group(2), token)


def collapse_repetitions(text: str) -> str:
    """Collapse a phrase repeated back to back into one copy (the first, punctuation as written):
    "in 1813, in 1813, in 1813" -> "in 1813,". Words are compared ignoring case and punctuation; a run
    inside one token (no spaces) collapses the same way."""
    tokens: list[str] = []
    for token in text.split():
        if tokens and not _word_key(token):
            tokens[-1] += " " + token  # a lone "." or "-" belongs to the word before it
        else:
            tokens.append(token)
    while True:
        collapsed = [_collapse_characters(t) for t in _collapse_once(tokens)]
        if collapsed == tokens:
            return " ".join(tokens)
        tokens = collapsed


# Whisper's own test of a looping decode: its text compresses better than this (zlib, bytes in / bytes out)
LOOP_COMPRESSION_RATIO = 2.4


def is_letterless_loop(decoded: str, collapsed: str) -> bool:
    """True for a decode that looped (`decoded` compresses like a loop) and whose collapsed text has no
    letters left ("1.5.00.00.0.000..."): digits and dots a model wrote for speech it could not follow, not
    words the user said. A loop around real words keeps its words."""
    raw = decoded.encode()
    if len(raw) < 40 or len(raw) / len(zlib.compress(raw)) <= LOOP_COMPRESSION_RATIO:
        return False
    return not any(unicodedata.category(c)[0] == "L" for c in collapsed)
