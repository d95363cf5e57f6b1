"""Early decodes: while the user pauses mid-dictation, the open segment is decoded ahead of time, so when the
stop comes at that pause its text is already there (the capture worker watches the pauses, the ASR worker
decodes)."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from onevox.vad.segmenter import SpeechSegment


class EarlyDecode:
    """The audio of a segment the segmenter has not closed yet, decoded during a pause in case the user
    stops there: when that segment closes with no speech after the pause, its decode is already done."""

    def __init__(self, audio: np.ndarray) -> None:
        self.audio = audio
        self.stale = False  # speech resumed: the segment will be longer than this audio
        self.text: str | None = None  # set by the ASR worker


class Snapshot:
    """The open segment's audio as it stood at one moment (samples [start, end) of the stream), handed to
    the ASR worker for an incremental pass or for the decode at release."""

    def __init__(self, audio: np.ndarray, start: int) -> None:
        self.audio = audio
        self.start = start
        self.end = start + audio.size
        self.started = False  # set by the ASR worker when it takes the pass up


class PauseWatcher:
    """Capture-thread bookkeeping for early decodes and incremental passes: the audio since the last closed
    segment (plus a short lead-in), how long speech has paused, and when the open segment is due to be
    decoded again."""

    def __init__(self, after: int, min_speech: int, lead_in: int, interval: int = 0) -> None:
        self.after, self.min_speech, self.lead_in, self.interval = after, min_speech, lead_in, interval
        self.reset()

    def reset(self) -> None:
        self._chunks: deque[np.ndarray] = deque()
        self._start = 0  # stream position of the first kept sample
        self._end = 0  # stream position after the last one
        self._speech = 0  # samples heard as speech since the last closed segment
        self._silence = 0  # samples since speech paused
        self.pending: EarlyDecode | None = None
        self._pass: Snapshot | None = None  # the last pass handed out
        self._pass_end = 0  # where the last pass's audio ended

    def due_pass(self, in_speech: bool) -> Snapshot | None:
        """A pass over the open segment, when speech is going on, enough new audio came since the last one
        and that one has been taken up: under load passes are skipped, never queued behind each other."""
        if not self.interval or not in_speech or self._speech < self.min_speech:
            return None
        if self._end - self._pass_end < self.interval or (self._pass is not None and not self._pass.started):
            return None
        self._pass = self.snapshot()
        self._pass_end = self._end
        return self._pass

    def snapshot(self) -> Snapshot:
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        return Snapshot(audio, self._start)

    def push(self, chunk: np.ndarray, in_speech: bool, closed: list[SpeechSegment],
             open_start: int | None = None) -> EarlyDecode | None:
        """Account for a chunk already pushed to the segmenter (`open_start`: where its open segment begins,
        None between segments); returns an early decode to queue, if due."""
        self._chunks.append(chunk)
        self._end += chunk.size
        if closed:  # what is left is the next segment; speech goes on across a split, not a pause
            end = closed[-1].end
            self._drop_before(end)
            self._speech = max(self._end - end - chunk.size, 0) if in_speech else 0
        if in_speech:
            self._speech += chunk.size
            self._silence = 0
            if self.pending is not None:
                self.pending.stale = True
                self.pending = None
        elif self._speech == 0:
            keep = self._end - self.lead_in
            if open_start is not None:  # a pause inside the open segment (after a split): still needed
                keep = min(keep, open_start)
            self._drop_before(keep)
        else:
            self._silence += chunk.size
            if self.pending is None and self._speech >= self.min_speech and self._silence >= self.after:
                self.pending = EarlyDecode(np.concatenate(self._chunks))
                return self.pending
        return None

    def take(self, closed: list[SpeechSegment]) -> EarlyDecode | None:
        """The early decode that covers the one segment just closed (none if several closed)."""
        early, self.pending = self.pending, None
        return early if len(closed) == 1 else None

    def _drop_before(self, position: int) -> None:
        while self._chunks and self._start + self._chunks[0].size <= position:
            self._start += self._chunks.popleft().size
