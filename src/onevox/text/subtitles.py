"""Timed text: words grouped into cues (a line or two of subtitle each), and cues written as SRT or WebVTT.

`onevox transcribe --format srt|vtt` and `onevox serve` (response_format srt | vtt | verbose_json) share
these, so a file gets the same cues whichever way it is transcribed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Cue:
    """A stretch of text and when it is spoken, in seconds from the start of the file."""

    start_s: float
    end_s: float
    text: str


class TimedWord(Protocol):
    """What grouping reads of a word (onevox.asr.base.Word has these)."""

    @property
    def text(self) -> str: ...

    @property
    def start_s(self) -> float: ...

    @property
    def end_s(self) -> float: ...


@dataclass(frozen=True)
class CueOptions:
    max_s: float = 7.0  # a cue longer than this is hard to read along with
    max_chars: int = 84  # two subtitle lines of the usual 42 characters
    pause_s: float = 0.8  # a silence this long between words starts a new cue
    sentence_min_chars: int = 20  # a sentence end starts a new cue once the cue holds this much text
    min_s: float = 0.3  # shortest cue shown (a lone short word still gets time to be read)


SENTENCE_ENDS = (".", "?", "!", "。", "？", "！")


def group_words(words: Sequence[TimedWord], options: CueOptions | None = None) -> list[Cue]:
    """Consecutive words as cues: a new cue at a pause, after a sentence's end, or when the cue would grow
    past `max_s` or `max_chars`. Cues come out in order and never overlap."""
    opts = options or CueOptions()
    groups: list[list[TimedWord]] = []
    for word in words:
        if groups and not _starts_new_cue(groups[-1], word, opts):
            groups[-1].append(word)
        else:
            groups.append([word])
    cues = [Cue(group[0].start_s, group[-1].end_s, "".join(w.text for w in group).strip())
            for group in groups]
    return ordered([cue for cue in cues if cue.text], opts.min_s)


def _starts_new_cue(group: list[TimedWord], word: TimedWord, opts: CueOptions) -> bool:
    text = "".join(w.text for w in group).strip()
    return (word.start_s - group[-1].end_s >= opts.pause_s
            or word.end_s - group[0].start_s > opts.max_s
            or len(text) + len(word.text) > opts.max_chars
            or (text.endswith(SENTENCE_ENDS) and len(text) >= opts.sentence_min_chars))


def ordered(cues: Iterable[Cue], min_s: float = 0.3) -> list[Cue]:
    """The cues with each one lasting at least `min_s` where the next one leaves room, none starting before
    the previous one ends (word timings from attention can touch or cross by a frame)."""
    out: list[Cue] = []
    items = list(cues)
    for i, cue in enumerate(items):
        start = max(cue.start_s, out[-1].end_s if out else 0.0)
        end = max(cue.end_s, start + min_s)
        if i + 1 < len(items):  # stretched to `min_s` only as far as the next cue leaves room
            end = min(end, max(items[i + 1].start_s, cue.end_s))
        out.append(Cue(round(start, 3), round(max(end, start), 3), cue.text))
    return out


def srt_time(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def vtt_time(seconds: float) -> str:
    return srt_time(seconds).replace(",", ".")


def to_srt(cues: Sequence[Cue]) -> str:
    """SubRip: numbered cues, blank line between them ("" when there are none)."""
    return "".join(f"{i}\n{srt_time(c.start_s)} --> {srt_time(c.end_s)}\n{_cue_text(c.text)}\n\n"
                   for i, c in enumerate(cues, 1))


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT: the header, then the cues."""
    body = "".join(f"{vtt_time(c.start_s)} --> {vtt_time(c.end_s)}\n{_cue_text(c.text)}\n\n" for c in cues)
    return f"WEBVTT\n\n{body}"


def _cue_text(text: str) -> str:
    """A cue's text never contains the blank line (or '-->') that would end or confuse the cue."""
    return " ".join(text.split()).replace("-->", "->")
