"""Which words of a growing segment are settled: the LocalAgreement-2 policy (Machacek et al. 2023,
whisper_streaming).

The open segment is decoded again and again while the user speaks. A word is committed when two successive
decodes agree on it and on every word before it; committed words are final. A segment's first words need
three (`first_agree`): the first decodes of a short buffer often both miss a soft first word.

Each decode starts at `buffer_s`, the end of the last committed sentence, so the model hears whole sentences
(a decode started in the middle of one mishears its first words and, with no sentence start, sometimes hears
nothing at all). Once the buffer holds a finished sentence and has grown past `trim_s`, or past `max_s`
whatever it holds, it starts again after the last committed word, keeping the passes cheap.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from onevox.asr.base import Word, join_words

_NOT_WORD = re.compile(r"[^\w']+")
_SENTENCE_END = re.compile(r"[.?!][\"')\]]*$")
MAX_OVERLAP = 5  # the longest run of committed words a new decode may repeat at its start
TIME_SLACK_S = 0.25  # alignment differs between two decodes of the same word by about this much
SPELLED_ALIKE = 0.6  # two spellings of one word: difflib's similarity of their letters at least this


def normal(word: str) -> str:
    """A word as two decodes are compared: case and punctuation do not count ("country," == "Country")."""
    return _NOT_WORD.sub("", word.lower())


def shifted(words: Sequence[Word], offset_s: float) -> list[Word]:
    """Words timed from the start of a decoded stretch, re-timed on the dictation's clock."""
    return [Word(w.text, round(w.start_s + offset_s, 3), round(w.end_s + offset_s, 3)) for w in words]


@dataclass(frozen=True)
class AgreementOptions:
    trim_s: float = 4.0  # a buffer longer than this starts again after its last committed sentence...
    max_s: float = 10.0  # ...and one longer than this after its last committed word
    stop_early_s: float = 1.5  # decodes that stop at a sentence end this long before the audio's end...
    stop_repeats: int = 3  # ...this many times in a row settle it
    first_agree: int = 3  # how many successive decodes must agree on a segment's first words (2 or 3)


@dataclass
class Agreement:
    """LocalAgreement-2 over one dictation's speech. Times are seconds from the start of the stream."""

    options: AgreementOptions = field(default_factory=AgreementOptions)
    committed: list[Word] = field(default_factory=list)
    buffer_s: float = 0.0  # where the next decode starts
    cut_s: float = 0.0  # audio before this is settled: the end of the last committed word
    pending: list[Word] = field(default_factory=list)  # the last decode's words after the committed ones
    origin_s: float = 0.0  # where the first decode began (audio before it is the caller's to decode)
    heard_s: float = 0.0  # where the audio of the latest decode ended
    _in_buffer: int = 0  # how many committed words lie in the buffer
    _stops: int = 0  # decodes in a row that stopped early at the same sentence end
    _earlier: list[Word] = field(default_factory=list)  # the decode before the last one, until words settle

    @property
    def text(self) -> str:
        return join_words(self.committed)

    @property
    def prompt(self) -> str:
        """The committed text before the buffer: the context of the next decode."""
        return join_words(self.committed[:len(self.committed) - self._in_buffer])

    def update(self, words: Sequence[Word], end_s: float) -> list[Word]:
        """A decode of the audio from `buffer_s` to `end_s`: commits the words it shares with the previous
        decode, and returns them."""
        self.heard_s = max(self.heard_s, end_s)
        fresh = self._fresh(words)
        # the decode's last word never settles: its end is where the decoder stopped listening (the
        # alignment gives it all the audio after it), and words said after it would be cut off; unless
        # decode after decode stopped at the same sentence end well before the audio's end: the decoder
        # stops there with more to hear, and would go on doing so while the buffer grows
        self._stops = self._stopped_early(fresh, end_s)
        last = len(fresh) if self._stops >= self.options.stop_repeats else len(fresh) - 1
        agreed = _agreed(self.pending, fresh[:last])
        if not self.committed and self.options.first_agree > 2:
            # the first words of a segment need one more decode to agree: the first decodes of a short
            # buffer often miss a soft first word ("And Mr. John..." heard as "Mr. John..." twice), and
            # once settled it can never come back
            agreed = _agreed(self._earlier, fresh[:agreed])
        settled = fresh[:agreed]
        self._earlier = [] if agreed else self.pending
        self.pending = fresh[agreed:]
        self._commit(settled)
        self._trim(end_s)
        return settled

    def _stopped_early(self, fresh: Sequence[Word], end_s: float) -> int:
        """How many decodes in a row (this one included) stopped at the same sentence end, well before the
        end of their audio."""
        if not fresh or not _SENTENCE_END.search(fresh[-1].text) or \
                end_s - fresh[-1].end_s < self.options.stop_early_s:
            return 0
        last = self.pending[-1] if self.pending else None
        same = last is not None and normal(last.text) == normal(fresh[-1].text) and \
            abs(last.end_s - fresh[-1].end_s) <= TIME_SLACK_S
        return self._stops + 1 if same else 1

    def finish(self, words: Sequence[Word], end_s: float, *, from_cut: bool = False) -> list[Word]:
        """The last decode of the audio from `buffer_s` (or from `cut_s`, with the whole committed text as
        its prompt) to `end_s`: the user stopped or the segment closed, so all of its new words are committed
        and the next decode starts at `end_s`."""
        settled = self._fresh(words, from_cut=from_cut)
        self._commit(settled)
        self.skip_to(end_s)
        return settled

    def rest_start(self, context_s: float) -> tuple[float, int]:
        """Where the last decode of a segment should start so that it hears at least `context_s` of settled
        speech before the unsettled part (a decode started right at the cut mishears the word there, and a
        cut the alignment placed a little late clips that word's start): the end of a settled word, and how
        many settled words follow it (the decode will restate them)."""
        for index in range(len(self.committed) - 1, -1, -1):
            if self.cut_s - self.committed[index].end_s >= context_s:
                return self.committed[index].end_s, len(self.committed) - 1 - index
        return self.origin_s, len(self.committed)

    def finish_rest(self, words: Sequence[Word], end_s: float, restated: int) -> list[Word]:
        """The last decode, started `restated` settled words before the cut (`rest_start`), as plain words
        without times: the restated ones are aligned away, all others are settled."""
        fresh = list(words)
        if restated:
            fresh = fresh[_past(self.committed[-restated:], fresh, timed=False):]
        settled = self._fresh(fresh, from_cut=True)
        self._commit(settled)
        self.skip_to(end_s)
        return settled

    def past_known(self, words: Sequence[Word], known: int) -> list[Word]:
        """The words of a last decode, of audio that begins `known` settled words before the cut
        (`rest_start`), that follow those words. It was told they are known so that it writes only what
        follows them, but the model takes where it was told to begin as a hint and may write some or all of
        them again first: those are aligned away. Nothing is settled (`finish` does that)."""
        fresh = list(words)
        if known:
            fresh = fresh[_restated(self.committed[-known:], fresh):]
        return fresh

    def carried_after(self, position_s: float) -> Agreement:
        """A new agreement for the audio after `position_s` (where a segment was cut while the user went on
        speaking), keeping the words already settled there and where the decodes had got to."""
        after = [w for w in self.committed if (w.start_s + w.end_s) / 2 > position_s]
        carried = Agreement(self.options, committed=after)
        carried.skip_to(position_s)
        carried.origin_s = position_s
        if after:
            carried.cut_s = max(carried.cut_s, self.cut_s)
            carried.buffer_s = max(position_s, min(self.buffer_s, after[0].start_s))
            carried._in_buffer = sum(1 for w in after if w.end_s > carried.buffer_s)
        return carried

    def skip_to(self, position_s: float) -> None:
        """Nothing before `position_s` needs decoding again (a closed segment, or the silence after it)."""
        self.pending = []
        self._earlier = []
        self.cut_s = max(self.cut_s, position_s)
        self.buffer_s = max(self.buffer_s, self.cut_s)
        self._in_buffer = 0

    def _commit(self, words: list[Word]) -> None:
        if not words:
            return
        first = words[0]
        if self.committed and first.text[:1].isascii() and first.text[:1].isalnum():
            words = [Word(" " + first.text, first.start_s, first.end_s), *words[1:]]
        self.committed.extend(words)
        self._in_buffer += len(words)
        self.cut_s = max(self.cut_s, words[-1].end_s)

    def _trim(self, end_s: float) -> None:
        length = end_s - self.buffer_s
        if length <= self.options.trim_s or not self._in_buffer:
            return
        inside = self._buffered()
        ends = [i for i, word in enumerate(inside) if _SENTENCE_END.search(word.text)]
        if ends:
            keep = len(inside) - ends[-1] - 1
        elif length > self.options.max_s:
            keep = 0
        else:
            return
        self.buffer_s = inside[len(inside) - keep - 1].end_s
        self._in_buffer = keep

    def _buffered(self) -> list[Word]:
        return self.committed[len(self.committed) - self._in_buffer:] if self._in_buffer else []

    def _fresh(self, words: Sequence[Word], *, from_cut: bool = False) -> list[Word]:
        """The words of a decode that are not committed yet. The decode repeats the committed words of its
        buffer (not always the same way); a decode that starts at the cut may repeat the last committed word
        or two when the cut fell in its tail."""
        inside = [] if from_cut else self._buffered()
        fresh = list(words)
        if inside:
            fresh = fresh[_past(inside, fresh):]
        tail = [normal(w.text) for w in self.committed[-MAX_OVERLAP:]]
        head = [normal(w.text) for w in fresh[:MAX_OVERLAP]]
        for size in range(min(len(tail), len(head)), 0, -1):
            # two or more words repeated at the very start are a restatement; a single one may be meant
            # ("that that"), so it must also lie where the committed one was
            if tail[-size:] == head[:size] and (size > 1 or fresh[0].start_s < self.cut_s + TIME_SLACK_S):
                return fresh[size:]
        return fresh


def _agreed(before: Sequence[Word], now: Sequence[Word]) -> int:
    """How many words at the start of two decodes are the same."""
    agreed = 0
    for old, new in zip(before, now, strict=False):
        if normal(old.text) != normal(new.text):
            break
        agreed += 1
    return agreed


def _past(settled: Sequence[Word], words: Sequence[Word], *, timed: bool = True) -> int:
    """How many of `words` (a decode from the start of the buffer) restate `settled` (the committed words in
    the buffer). The decode may spell a settled word differently, drop or add one: the two are aligned word
    by word, and the decode's words up to where the last settled one falls are skipped; where the last
    settled words found no match, the word times decide."""
    a = [normal(w.text) for w in settled]
    b = [normal(w.text) for w in words[:len(settled) + MAX_OVERLAP]]
    # a settled word is restated near its own place; a match far from it is a word that recurs later
    blocks = [m for m in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
              if m.size and abs(m.b - m.a) <= 2]
    skip = blocks[-1].b + blocks[-1].size if blocks else 0
    unmatched = len(a) - (blocks[-1].a + blocks[-1].size if blocks else 0)
    if not timed:  # plain words: as many decoded words as settled ones were left over
        return min(skip + unmatched, len(words))
    if unmatched:
        # settled words after the last match were written differently (or merged, or dropped): the
        # decode's words that lie within the settled audio are theirs
        end = settled[-1].end_s
        while skip < len(words) and (words[skip].start_s + words[skip].end_s) / 2 < end:
            skip += 1
    return skip


def _restated(known: Sequence[Word], words: Sequence[Word]) -> int:
    """How many of `words` (a decode told that `known` came before it) write the end of `known` again.
    None unless the decode begins by restating and goes on, in order and with at most a word left out or
    written differently here and there, to the last or last but one known word, or to its own end: a known
    word that merely recurs is new speech. A last known word that found no match counts as written by the
    decoded word after the restatement when the two are spelled alike ("Leichenhalle", "Leichenhaler")."""
    a = [normal(w.text) for w in known]
    b = [normal(w.text) for w in words[:len(known) + MAX_OVERLAP]]
    blocks = [m for m in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks() if m.size]
    if not blocks or blocks[0].b > 1:
        return 0
    if blocks[-1].b + blocks[-1].size >= len(words):  # nothing but known words, written again
        return len(words)
    chain = blocks[:1]
    for block in blocks[1:]:
        gap_a, gap_b = block.a - (chain[-1].a + chain[-1].size), block.b - (chain[-1].b + chain[-1].size)
        if gap_a > 1 or gap_b > 1:
            break
        chain.append(block)
    end, after = chain[-1].b + chain[-1].size, chain[-1].a + chain[-1].size
    if after == len(a):
        return end
    if after == len(a) - 1 and end < len(b) and \
            difflib.SequenceMatcher(None, a[after], b[end]).ratio() >= SPELLED_ALIKE:
        return end + 1
    return 0
