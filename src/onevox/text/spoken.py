"""Spoken punctuation and formatting in English dictation: "comma", "period", "new paragraph", "cap WORD".

What Whisper writes for a spoken command decides the grammar. It writes the command as a word, often with
its own punctuation around it where the speaker paused ("Hello, period. How are you? Question mark."), may
capitalise it, hyphenate it ("semi-colon") or run it into the next words ("noon period new paragraph").
Whisper's punctuation next to a command is dropped: the command says what the speaker wanted there.

A command word is also an ordinary word ("the trial period", "a comma splice"), so a command fires only
where the words around it say it was one:
- a phrase that is a command and nothing else ("question mark", "new paragraph", "open quote") fires unless
  it is a noun in a noun phrase: a determiner or possessive within two words before it ("a question mark
  over his future") or a preposition right before it;
- a word that is also a noun ("period", "comma", "colon", "dash", "new line") fires only where it stands
  apart: Whisper's punctuation, the end of the dictation or another command right after it (and the same
  noun-phrase test, over three words), or a new clause after it ("hello comma how are you");
- at a sentence's start a command must stand apart after it ("Full stop signs are rare" is prose), and a
  closing mark opens a dictation only when nothing but commands follows ("Period.");
- a run of command words that "and" or "or" joins to other words is named, not said ("comma, semicolon
  and colon"); "open bracket ... close bracket" (or quote) always fires as a pair;
- "cap WORD" and "all caps WORD" change the next word unless "cap" is a noun (a determiner before it), a
  verb ("to cap prices", "cap it") or a sentence's first word;
- the literal word ("literal comma") types the command's words instead, unless it is an adjective itself
  ("a literal comma").
Spacing and capitals then follow a careful typist: no space before , . ? ! : ; ) or a closing quote, a
space after; none inside quotes and brackets, none around a dash or a line break; a capital after . ? !
and a new paragraph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum
from functools import lru_cache

from onevox.config import CommandsConfig, ModelConfig
from onevox.text.languages import base_language


class Kind(Enum):
    CLOSE = "close"  # attaches to the word before it: , . ? ! : ; ) closing quote
    OPEN = "open"  # attaches to the word after it: ( opening quote
    JOIN = "join"  # attaches to both: the dash
    BREAK = "break"  # a line break: no spaces around it
    CASE = "case"  # changes the next word's case: cap, all caps


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # the spoken phrase, lower case
    text: str  # what it types; for a case command what it does to the next word ("cap" or "upper")
    kind: Kind
    apart: bool  # True: a noun too ("period"); fires only where it stands apart from the words around it


def _commands() -> tuple[Command, ...]:
    spec: list[tuple[str, str, Kind, bool]] = [
        ("period", ".", Kind.CLOSE, True), ("full stop", ".", Kind.CLOSE, False),
        ("comma", ",", Kind.CLOSE, True),
        ("question mark", "?", Kind.CLOSE, False),
        ("exclamation mark", "!", Kind.CLOSE, False), ("exclamation point", "!", Kind.CLOSE, False),
        ("colon", ":", Kind.CLOSE, True), ("semicolon", ";", Kind.CLOSE, False),
        ("semi colon", ";", Kind.CLOSE, False),
        ("new line", "\n", Kind.BREAK, True), ("new paragraph", "\n\n", Kind.BREAK, False),
        ("open quote", "\u201c", Kind.OPEN, False), ("close quote", "\u201d", Kind.CLOSE, False),
        ("end quote", "\u201d", Kind.CLOSE, False), ("unquote", "\u201d", Kind.CLOSE, False),
        ("open bracket", "(", Kind.OPEN, False), ("close bracket", ")", Kind.CLOSE, False),
        ("open paren", "(", Kind.OPEN, False), ("close paren", ")", Kind.CLOSE, False),
        ("open parenthesis", "(", Kind.OPEN, False), ("close parenthesis", ")", Kind.CLOSE, False),
        ("dash", "\u2014", Kind.JOIN, True),
        ("cap", "cap", Kind.CASE, True), ("all caps", "upper", Kind.CASE, True),
    ]
    return tuple(Command(tuple(phrase.split()), text, kind, apart) for phrase, text, kind, apart in spec)


COMMANDS = _commands()
_LONGEST = max(len(c.words) for c in COMMANDS)
_BY_WORDS = {c.words: c for c in COMMANDS}
# one token Whisper may write for several spoken words
_SPLIT = {"semi-colon": ("semi", "colon"), "newline": ("new", "line"), "new-line": ("new", "line"),
          "full-stop": ("full", "stop"), "all-caps": ("all", "caps"), "new-paragraph": ("new", "paragraph"),
          "close-quote": ("close", "quote"), "open-quote": ("open", "quote")}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A command word after these (within three words, no punctuation between) is a noun in a noun phrase.
_DETERMINERS = _words("a an the this that these those my your his her its our their each every any no "
                      "some another same such whose which what one")
# "this is", "that was": after a determiner, these make it a pronoun
_VERBS = _words("is was are were has had have will would can could should must may might does did do 's")
# ... and right after these it is the object of a preposition ("the end of period", "in caps").
_PREPOSITIONS = _words("of in on at per for with without about between after before during inside "
                       "outside from into like than as by")
# Words that start a new clause: after one, a noun before it stood at the end of the previous one.
_CLAUSE_STARTS = _words("i i'm i'll i've i'd you we he she they it it's how what where when why who "
                        "please thanks thank yes let's there")
# After these "cap" is a verb ("to cap prices", "we cap"), and before these ("cap it", "cap the").
_VERB_BEFORE = _words("to will would should could can must may might shall we they i you i'll we'll "
                      "you'll they'll he'll she'll let's")
_FUNCTION = _words("a an the and or but nor so of to in on at by for with from it its it's this that "
                   "them him her us me is are was were be off out up") | _DETERMINERS
_JOINING = _words("and or nor")
_SENTENCE_END = ".?!\u2026"
_CLOSING = {"(": ")", "\u201c": "\u201d"}
_TOKEN = re.compile(r"^(?P<lead>[\W_]*)(?P<core>.*?)(?P<trail>[\W_]*)$", re.DOTALL)
_WHISPER_PUNCT = ",.;:!?\u2026"


@dataclass
class _Token:
    lead: str  # punctuation before the word ("(", a quote)
    core: str  # the word as Whisper wrote it
    trail: str  # punctuation after it
    words: tuple[str, ...]  # the spoken words it stands for, lower case

    @property
    def stops(self) -> bool:
        """Whisper put a pause mark after this word."""
        return any(c in _WHISPER_PUNCT for c in self.trail)


@dataclass
class _Hit:
    start: int  # first token of the command
    end: int  # one past its last token
    command: Command
    skip: int = 0  # tokens of the literal word before the command's words (then: type the words)

    @property
    def literal(self) -> bool:
        return self.skip > 0


# Whisper hears a lone "comma" as "comment" or "come" unless the words are in its prompt; with them there its
# text of ordinary speech did not change on the measured clips (see README).
PROMPT_WORDS = ("comma", "period", "question mark", "exclamation mark", "new line", "new paragraph")


def primed_model(model: ModelConfig, commands: CommandsConfig) -> ModelConfig:
    """`model` with the command words added to its vocabulary when spoken punctuation is on and the model
    is told to hear English."""
    if not (commands.punctuation and base_language(model.language) == "en"):
        return model
    extra = [w for w in PROMPT_WORDS if w not in model.vocabulary]
    return replace(model, vocabulary=[*model.vocabulary, *extra]) if extra else model


def applies(commands: CommandsConfig | None, language: str) -> bool:
    """Spoken punctuation acts on this dictation: it is switched on and the language is English."""
    return commands is not None and commands.punctuation and base_language(language) == "en"


def apply_spoken_commands(text: str, commands: CommandsConfig) -> str:
    """`text` (Whisper's English text, one line) with its spoken punctuation and formatting applied."""
    tokens = _tokens(text)
    if not tokens:
        return text
    hits = _find(tokens, _literal_words(commands.literal_word))
    if not hits:
        return text
    return _render(tokens, hits)


@lru_cache(maxsize=4)
def _literal_words(literal_word: str) -> tuple[str, ...]:
    return tuple(w.strip(".,;:!?\"'").lower() for w in literal_word.split())


def _tokens(text: str) -> list[_Token]:
    out = []
    for raw in text.split(" "):
        if not raw:
            continue
        m = _TOKEN.match(raw)
        assert m is not None  # the pattern matches any string
        core = m.group("core")
        words = _SPLIT.get(core.lower(), (core.lower(),))
        out.append(_Token(m.group("lead"), core, m.group("trail"), words))
    return out


def _match(tokens: list[_Token], i: int) -> tuple[int, Command] | None:
    """The longest command whose words start at token i (no punctuation inside it): (end, command)."""
    best = None
    words: tuple[str, ...] = ()
    for j in range(i, min(len(tokens), i + _LONGEST)):
        if j > i and (tokens[j - 1].trail or tokens[j].lead):
            break
        words += tokens[j].words
        if words in _BY_WORDS:
            best = (j + 1, _BY_WORDS[words])
        if len(words) >= _LONGEST:
            break
    return best


def _find(tokens: list[_Token], literal: tuple[str, ...]) -> list[_Hit]:
    candidates: list[_Hit] = []
    i = 0
    while i < len(tokens):
        lit_end = _literal_end(tokens, i, literal)
        found = _match(tokens, lit_end) if lit_end else _match(tokens, i)
        if found is None:
            i += 1
            continue
        end, command = found
        candidates.append(_Hit(i, end, command, skip=lit_end - i if lit_end else 0))
        i = end
    paired = _paired(candidates)
    hits = [h for h in candidates
            if h.literal or h.start in paired or not _mentioned(tokens, h, candidates)]
    while True:  # a command next to one that does not fire loses that neighbour: decide again
        starts = {h.start for h in hits if not h.literal}
        ends = {h.end for h in hits if not h.literal}
        kept = [h for h in hits if _fires(tokens, h, starts, ends, paired)]
        if len(kept) == len(hits):
            return kept
        hits = kept


def _mentioned(tokens: list[_Token], hit: _Hit, candidates: list[_Hit]) -> bool:
    """The command's words are named, not said as a command: "and" or "or" joins one of a run of command
    words to other words ("comma, semicolon and colon")."""
    run = [h for h in candidates if not h.literal]
    first = last = run.index(hit)
    while first and run[first - 1].end == run[first].start:
        first -= 1
    while last + 1 < len(run) and run[last].end == run[last + 1].start:
        last += 1
    for h in run[first:last + 1]:
        before = tokens[h.start - 1] if h.start else None
        after = tokens[h.end] if h.end < len(tokens) else None
        if (before is not None and not before.trail and before.words[-1] in _JOINING) or \
                (after is not None and not tokens[h.end - 1].trail and after.words[0] in _JOINING):
            return True
    return False


def _paired(hits: list[_Hit]) -> set[int]:
    """The starts of opening brackets and quotes closed later in the text, and of those closings."""
    paired: set[int] = set()
    opened: dict[str, int] = {}
    for hit in hits:
        if hit.literal:
            continue
        if hit.command.kind is Kind.OPEN:
            opened[_CLOSING[hit.command.text]] = hit.start
        elif hit.command.text in opened:
            paired |= {opened.pop(hit.command.text), hit.start}
    return paired


def _literal_end(tokens: list[_Token], i: int, literal: tuple[str, ...]) -> int:
    """The token after the literal word when it starts at i (and has no punctuation after it), else 0."""
    if not literal or i + len(literal) >= len(tokens):
        return 0
    for k, word in enumerate(literal):
        token = tokens[i + k]
        if token.words != (word,) or (token.trail and k == len(literal) - 1):
            return 0
    return i + len(literal)


def _fires(tokens: list[_Token], hit: _Hit, starts: set[int], ends: set[int], paired: set[int]) -> bool:
    command = hit.command
    before = tokens[hit.start - 1] if hit.start else None
    after = tokens[hit.end] if hit.end < len(tokens) else None
    last = tokens[hit.end - 1]
    apart_before = before is None or before.stops or hit.start in ends
    apart_after = after is None or last.stops or hit.end in starts
    if hit.literal:  # "a literal comma" is prose; "say literal comma" is not
        return not _in_noun_phrase(tokens, hit.start, 1)
    if hit.start in paired:  # "open bracket ... close bracket" is never prose
        return True
    window = 3 if command.apart else 2
    if not apart_before and _in_noun_phrase(tokens, hit.start, window):
        return False
    starts_sentence = before is None or (hit.start not in ends and bool(before.trail)
                                         and before.trail[-1] in _SENTENCE_END)
    if command.kind is Kind.CASE:  # a sentence's first word is capitalised anyway: "Cap sizes vary"
        return not starts_sentence and _case_fires(tokens, hit, before, after)
    if before is None and command.kind is Kind.CLOSE:  # "Comma, placement matters": only "Period." alone
        return after is None or hit.end in starts
    if starts_sentence:  # "Full stop signs are rare", "Open quote marks are curly"
        return apart_after
    if not command.apart or apart_after:
        return True
    return before is not None and after is not None and after.words[0] in _CLAUSE_STARTS


def _case_fires(tokens: list[_Token], hit: _Hit, before: _Token | None, after: _Token | None) -> bool:
    """'cap WORD': a word follows, and 'cap' is not a verb ('to cap prices', 'cap it all')."""
    if after is None or tokens[hit.end - 1].trail or after.lead or after.words[0] in _FUNCTION:
        return False
    return before is None or before.stops or before.words[-1] not in _VERB_BEFORE


def _in_noun_phrase(tokens: list[_Token], start: int, window: int) -> bool:
    """A determiner or possessive within `window` words before `start` (no punctuation between), or a
    preposition right before it. "This is", "that was": a pronoun, not a determiner."""
    if start and tokens[start - 1].words[-1] in _PREPOSITIONS:
        return True
    for k in range(start - 1, max(-1, start - 1 - window), -1):
        token = tokens[k]
        if k < start - 1 and token.stops:
            break
        word = token.words[-1]
        pronoun = k + 1 < len(tokens) and tokens[k + 1].words[0] in _VERBS
        if (word in _DETERMINERS and not pronoun) or word.endswith(("'s", "\u2019s")):
            return True
        if token.lead:
            break
    return False


def _render(tokens: list[_Token], hits: list[_Hit]) -> str:
    by_start = {h.start: h for h in hits}
    out = ""
    glue = False  # the next word attaches without a space (after "(", a dash or a line break)
    capital = False  # the next word starts a sentence
    lower = False  # the next word's capital was Whisper's, after its own full stop that a command replaced
    case = ""  # "cap" or "upper": what a case command does to the next word
    i = 0
    while i < len(tokens):
        hit = by_start.get(i)
        if hit is not None and not hit.literal:
            command = hit.command
            if command.kind is Kind.CASE:
                case = command.text
            elif command.kind is Kind.OPEN:
                out += ("" if glue or not out else " ") + command.text
                glue = True
            else:
                out = out.rstrip(" ") + command.text
                glue = command.kind in (Kind.JOIN, Kind.BREAK)
            if command.text in _SENTENCE_END or command.text == "\n\n":
                capital, lower = True, False
            elif command.kind in (Kind.CLOSE, Kind.JOIN) and \
                    any(c in _SENTENCE_END for c in tokens[hit.end - 1].trail):
                lower = True
            i = hit.end
            continue
        first = i + hit.skip if hit is not None else i  # a literal hit: its words, not the literal word
        end = hit.end if hit is not None else i + 1
        for k in range(first, end):
            token = tokens[k]
            word = _cased(token.core, case, capital, lower)
            case, capital, lower = "", False, False
            trail = token.trail
            following = by_start.get(k + 1)
            if following is not None and not following.literal:
                trail = _trail_before(trail, following.command)
            out += ("" if glue or not out else " ") + token.lead + word + trail
            glue = False
        i = end
    return out


def _trail_before(trail: str, command: Command) -> str:
    """Whisper's punctuation after a word, when a command follows: a pause mark goes (the command says
    what belongs there), except a full stop before a command that does not end a sentence itself (a line
    break, an opening bracket, "cap")."""
    if command.kind in (Kind.BREAK, Kind.OPEN, Kind.CASE) and trail and trail[-1] in _SENTENCE_END:
        return trail
    return trail.rstrip(_WHISPER_PUNCT)


def _cased(word: str, case: str, capital: bool, lower: bool) -> str:
    if case == "upper":
        return word.upper()
    if case == "cap" or capital:
        return word[:1].upper() + word[1:]
    if lower and word[:1].isupper() and word[1:].islower() and word not in ("I", "I'm", "I'll", "I've"):
        return word[:1].lower() + word[1:]
    return word
