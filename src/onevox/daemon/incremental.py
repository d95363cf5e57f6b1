"""The ASR worker's side of incremental decoding: the open segment is decoded while the user speaks, the
words two passes agree on are settled (`asr.agreement`), and at release only what came after them is left.

    pass       the open segment so far, from the agreement's buffer on; settles words
    release    at the stop command, while the tail is still being captured: the open segment up to now,
               decoded at once; if the tail brings no new speech this text stands
    final      a segment that closed after the stop: the release text, or the settled words plus a decode of
               the audio after them, or (short segments) the whole segment, which is as fast and most exact

Segments that close while the user is still speaking are decoded whole, as without incremental decoding
(in live mode their settled words are already in the window, so only the rest is decoded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from onevox.asr.agreement import Agreement, shifted
from onevox.asr.base import TimedTranscript, Word, WordRecognizer, join_words
from onevox.audio import SAMPLE_RATE
from onevox.daemon.early import Snapshot
from onevox.daemon.record import Dictation
from onevox.vad.segmenter import SpeechSegment

MIN_PASS_S = 0.5  # less unsettled audio than this is not worth a pass
MIN_WORD_S = 0.02  # a word aligned shorter than this was not heard out
_CUT_MARKS = ("-", "...", "\u2026")


@dataclass(frozen=True)
class IncrementalOptions:
    whole_max_s: float = 3.0  # a final segment this short is decoded whole (as fast, and most exact)
    release_slack_s: float = 0.08  # speech heard this long after the stop still counts as "nothing new"
    tail_quiet_s: float = 0.08  # after the stop, this long without a voiced frame ends the tail
    pending_covers_s: float = 0.6  # a doubted last decode: the last pass's words stand if it heard this near
    pending_quiet_s: float = 0.2  # ...and this long after its last word
    rest_context_s: float = 2.0  # settled speech the last decode hears before the unsettled part
    rest_empty_s: float = 1.0  # a last decode that writes nothing new for this much unsettled audio is redone
    # the last decode is told to begin this long before the cut: where Whisper places a timestamp and where
    # the alignment ends a word differ by tens of milliseconds
    known_early_s: float = 0.1


def cut_off(word: Word) -> bool:
    """Whisper's mark of a word that the end of the audio cut ("be-", "chiefly..."), or one the alignment
    found no time for."""
    return word.text.rstrip().endswith(_CUT_MARKS) or word.end_s - word.start_s < MIN_WORD_S


class Decode(Protocol):
    """Words of the audio (`timed`: with their times); a doubted decode comes back empty with `doubt`.
    `final`: the decode the user waits for, of audio the VAD heard speech in (see `_settle_rest`)."""

    def __call__(self, d: Dictation, audio: np.ndarray, prompt: str, *,
                 timed: bool = True, final: bool = False, known_s: float = 0.0) -> TimedTranscript: ...


Transcribe = Callable[[Dictation, np.ndarray, str], str]


class IncrementalDecoder:
    """Runs on the ASR worker only; keeps each dictation's agreement on the `Dictation`."""

    def __init__(self, decode_words: Decode, transcribe: Transcribe, options: IncrementalOptions,
                 live: bool) -> None:
        self.decode_words = decode_words
        self.transcribe = transcribe
        self.options = options
        self.live = live

    @staticmethod
    def supports(recognizer: object) -> bool:
        return isinstance(recognizer, WordRecognizer)

    def run_pass(self, d: Dictation, snap: Snapshot) -> list[Word]:
        """One pass over the open segment; returns the words it settled."""
        snap.started = True
        agreement = self._agreement(d, snap.start)
        audio = self._from(snap, agreement.buffer_s)
        if audio.size < MIN_PASS_S * SAMPLE_RATE:
            return []
        result = self.decode_words(d, audio, self._prompt(d, agreement.prompt))
        if result.doubt:  # not worth the full window: the next pass will hear more
            return []
        return agreement.update(shifted(result.words, agreement.buffer_s), snap.end / SAMPLE_RATE)

    def release(self, d: Dictation, snap: Snapshot) -> None:
        """Decode the open segment up to the stop command, before its tail is in."""
        d.speculative = (self._open_text(d, snap), snap.end)

    def final_text(self, d: Dictation, segment: SpeechSegment) -> str:
        """The text of a segment that closed after the stop command."""
        speculative, d.speculative = d.speculative, None
        if speculative is not None and not d.tail_speech and speculative[1] >= segment.start:
            d.reused += 1
            return speculative[0]
        snap = Snapshot(segment.audio, segment.start)
        return self._open_text(d, snap)

    def closed_text(self, d: Dictation, segment: SpeechSegment) -> str | None:
        """A segment that closed while the user speaks. Live mode: its settled words (already in the window)
        and the rest; when the passes had settled words past its end (a long segment cut while speech went
        on), those belong to it too and the next segment starts after them. Otherwise None (decode it whole),
        and settled words past its end carry over to the next segment."""
        agreement = d.agreement
        d.closed_end = max(d.closed_end, segment.end)
        if agreement is None or not agreement.committed:
            d.agreement = None
            return None
        if not self.live:
            d.agreement = agreement.carried_after(segment.end / SAMPLE_RATE)
            return None
        d.agreement = None
        self._settle_rest(d, agreement, Snapshot(segment.audio, segment.start))
        d.closed_end = max(d.closed_end, round(agreement.cut_s * SAMPLE_RATE))
        return agreement.text

    def settled_text(self, d: Dictation) -> str:
        """The open segment's settled words (shown and, in live mode, typed while the user speaks)."""
        return d.agreement.text if d.agreement is not None else ""

    def _open_text(self, d: Dictation, snap: Snapshot) -> str:
        if d.closed_end > snap.start:  # live mode typed the first words of this audio with the last segment
            snap = Snapshot(snap.audio[d.closed_end - snap.start:], d.closed_end)
        agreement = d.agreement
        if agreement is None or not agreement.committed or (
                not self.live and snap.audio.size <= self.options.whole_max_s * SAMPLE_RATE):
            return self.transcribe(d, snap.audio, d.prompt())
        origin = round(agreement.origin_s * SAMPLE_RATE)
        prefix = ""
        if origin - snap.start > MIN_PASS_S * SAMPLE_RATE:  # audio before the passes began: not covered
            prefix = self.transcribe(d, snap.audio[:origin - snap.start], d.prompt())
        self._settle_rest(d, agreement, snap)
        return " ".join(part for part in (prefix, agreement.text) if part)

    def _settle_rest(self, d: Dictation, agreement: Agreement, snap: Snapshot) -> None:
        """Settle the words after the settled ones: one decode (no word times, no full-window redo: this is
        the decode the user waits for) of the audio from `rest_context_s` of settled speech before the cut,
        with the settled text as its prompt, told that those words are known: it hears them but writes only
        what follows (a decode that wrote them again took as long again for them, and one started right at
        the cut mishears the word there). Words it still restates are aligned away.
        Its audio is speech the VAD heard, so the model's doubt that it holds any does not send it to the
        full window (the passes keep that doubt: a doubted pass only waits for the next)."""
        if snap.end / SAMPLE_RATE - agreement.cut_s < 0.1:
            return
        start_s, restated = agreement.rest_start(self.options.rest_context_s)
        start_s = max(start_s, snap.start / SAMPLE_RATE)
        end_s = snap.end / SAMPLE_RATE
        audio = self._from(snap, start_s)
        known_s = max(agreement.cut_s - start_s - self.options.known_early_s, 0.0) if restated else 0.0
        result = self.decode_words(d, audio, self._prompt(d, agreement.text), timed=False, final=True,
                                   known_s=known_s)
        fresh = agreement.past_known([Word(w.text, agreement.cut_s, agreement.cut_s) for w in result.words],
                                     restated)
        if not result.doubt and (not known_s or self._follows(agreement, fresh, end_s)):
            agreement.finish(fresh, end_s, from_cut=True)
            return
        prompt = self._prompt(d, join_words(agreement.committed[:len(agreement.committed) - restated]))
        if known_s:
            # told where to begin, it was doubted, or wrote nothing after the settled words although there
            # is more to hear (it can take the settled words for all there is): decoded once more, writing
            # them again
            result = self.decode_words(d, audio, prompt, timed=False, final=True)
            if not result.doubt:
                agreement.finish_rest([Word(w.text, start_s, start_s) for w in result.words], end_s, restated)
                return
        pending = agreement.pending
        if pending and end_s - agreement.heard_s <= self.options.pending_covers_s and not cut_off(
                pending[-1]) and agreement.heard_s - pending[-1].end_s >= self.options.pending_quiet_s:
            # the last pass heard nearly all of it, and heard the speech stop after its last word: its
            # unsettled words beat a decode of the full window (a last word cut off where the pass stopped
            # listening, "buy" heard as "be-", or words said after it, would be lost)
            agreement.finish(pending, end_s, from_cut=True)
            return
        if start_s < agreement.cut_s - 0.1:  # once more from the cut, with all the settled text as prompt
            cut_s = agreement.cut_s
            result = self.decode_words(d, self._from(snap, cut_s), self._prompt(d, agreement.text),
                                       timed=False, final=True)
            if not result.doubt:
                agreement.finish([Word(w.text, cut_s, cut_s) for w in result.words], end_s, from_cut=True)
                return
        text = self.transcribe(d, audio, prompt)  # may take the full window: as exact as it gets
        agreement.finish_rest([Word(" " + w, start_s, start_s) for w in text.split()], end_s, restated)

    def _follows(self, agreement: Agreement, fresh: list[Word], end_s: float) -> bool:
        """Whether a last decode told that the settled words are known plausibly wrote what follows them:
        something, where there is more than a moment left to hear. (Also asking that it begin with the word
        the last pass heard after them sent most of base's German dictations to a second decode.)"""
        return bool(fresh) or end_s - agreement.cut_s < self.options.rest_empty_s

    def _agreement(self, d: Dictation, start: int) -> Agreement:
        """The open segment's agreement; a new one starts after the last closed segment (the capture keeps
        a lead-in before new speech that can reach back into it)."""
        if d.agreement is None:
            d.agreement = Agreement()
            d.agreement.skip_to(max(start, d.closed_end) / SAMPLE_RATE)
            d.agreement.origin_s = d.agreement.buffer_s
        return d.agreement

    @staticmethod
    def _from(snap: Snapshot, position_s: float) -> np.ndarray:
        offset = max(round(position_s * SAMPLE_RATE) - snap.start, 0)
        return snap.audio[offset:]

    @staticmethod
    def _prompt(d: Dictation, settled: str) -> str:
        return " ".join(part for part in (d.prompt(), settled) if part)
