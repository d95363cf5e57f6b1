"""The path every live sample takes: producer block -> `Feed` (ring at the device rate) -> `DictationReader`
(pre-roll, positions, overrun accounting, resampling to 16 kHz).

`AudioCapture` (PortAudio callback) and `FileAudioSource` (feeder thread) both write through
`make_input_callback`, so a file source exercises exactly the code a microphone does.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from onevox.audio import SAMPLE_RATE
from onevox.audio.resample import StreamResampler
from onevox.audio.ring import RingBuffer, RingOverrun

_EMPTY = np.zeros(0, dtype=np.float32)
InputCallback = Callable[[np.ndarray, int, Any, Any], None]


class Feed:
    """The audio of one opened stream, at the stream's own rate. A reopened stream gets a new Feed."""

    def __init__(self, rate: int, seconds: float) -> None:
        self.rate = int(rate)
        self.ring = RingBuffer(max(1, round(self.rate * seconds)))
        # [input overflows, other callback status flags], bumped in place by the callback
        self.status_counts = np.zeros(2, dtype=np.int64)


def make_input_callback(feed: Feed) -> InputCallback:
    """A sounddevice InputStream callback (mono, float32) that only copies the block into the feed's ring
    and counts status flags in a pre-allocated array: no allocation beyond sounddevice's own, no locks,
    no logging."""
    write = feed.ring.write
    counts = feed.status_counts

    def callback(indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        write(indata[:, 0])
        if status:
            counts[0 if status.input_overflow else 1] += 1

    return callback


@dataclass
class _Piece:
    """A stretch of one feed that belongs to the current dictation."""

    feed: Feed
    pos: int  # next absolute ring position to read
    stop: int | None = None  # where the stretch ends (None: it is still growing)


class DictationReader:
    """Reads the current dictation out of one or more feeds (several when the device was reopened
    mid-dictation) and resamples it to `out_rate`. `read()` runs on one worker thread; begin/end/switch
    may come from others."""

    def __init__(self, out_rate: int = SAMPLE_RATE, poll_s: float = 0.005) -> None:
        self.out_rate = out_rate
        self._poll_s = poll_s  # how often read() looks for new audio while waiting
        self._lock = threading.Lock()
        self._pieces: deque[_Piece] = deque()
        self._resampler: StreamResampler | None = None
        self._active = False
        self.overruns = 0  # times the worker fell so far behind that audio was overwritten
        self.lost_s = 0.0  # seconds of audio lost to those overruns

    @property
    def active(self) -> bool:
        """A dictation has begun and not ended."""
        return self._active

    def begin(self, feed: Feed, pre_roll_ms: int) -> None:
        """Start a dictation on `feed`, `pre_roll_ms` before its newest sample (as far as the ring allows)."""
        ring = feed.ring
        start = max(ring.oldest, ring.written - round(feed.rate * max(0, pre_roll_ms) / 1000))
        with self._lock:
            self._pieces.clear()
            self._pieces.append(_Piece(feed, start))
            self._resampler = StreamResampler(feed.rate, self.out_rate)
            self._active = True

    def switch(self, feed: Feed) -> None:
        """The stream was reopened: finish the current feed where it stopped and go on with `feed` from its
        first sample. Ignored outside a dictation."""
        with self._lock:
            if not self._active or (self._pieces and self._pieces[-1].feed is feed):
                return
            self._close_last()
            self._pieces.append(_Piece(feed, 0))

    def end(self) -> None:
        """Nothing written from now on belongs to the dictation; read() drains what came before."""
        with self._lock:
            self._active = False
            self._close_last()

    def discard(self) -> None:
        """Forget the dictation and anything not yet read (cancel, close)."""
        with self._lock:
            self._active = False
            self._pieces.clear()
            self._resampler = None

    def position(self, feed: Feed) -> int | None:
        """The next position read() will take from `feed`, or None when it is not being read."""
        with self._lock:
            for piece in self._pieces:
                if piece.feed is feed:
                    return piece.pos
        return None

    def read(self, timeout: float) -> np.ndarray:
        """New 16 kHz audio, waiting up to `timeout` s for some; empty at once when there is no dictation
        and nothing left to drain."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            with self._lock:
                out = self._take()
                idle = not self._active and not self._pieces
            if out.size or idle:
                return out
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return out
            time.sleep(min(self._poll_s, remaining))

    def read_flushed(self) -> np.ndarray:
        """Everything available now plus the resampler's held-back tail (the source has nothing more to
        give for the moment); later audio continues as a new piece."""
        with self._lock:
            out = self._take()
            if not self._pieces or self._resampler is None:
                return out
            return _concat([out, self._resampler.flush()])

    def _close_last(self) -> None:
        if self._pieces and self._pieces[-1].stop is None:
            last = self._pieces[-1]
            last.stop = max(last.pos, last.feed.ring.written)

    def _take(self) -> np.ndarray:
        outs: list[np.ndarray] = []
        while self._pieces and self._resampler is not None:
            piece = self._pieces[0]
            outs.append(self._resampler.process(self._copy_new(piece)))
            if piece.stop is None or piece.pos < piece.stop:
                break
            outs.append(self._resampler.flush())
            self._pieces.popleft()
            if self._pieces and self._pieces[0].feed.rate != self._resampler.in_rate:
                self._resampler = StreamResampler(self._pieces[0].feed.rate, self.out_rate)
        return _concat(outs)

    def _copy_new(self, piece: _Piece) -> np.ndarray:
        ring = piece.feed.ring
        while True:
            limit = ring.written if piece.stop is None else min(piece.stop, ring.written)
            if piece.pos < ring.oldest:
                self._skip(piece, ring.oldest)
            n = limit - piece.pos
            if n <= 0:
                return _EMPTY
            block = np.empty(n, dtype=np.float32)
            try:
                got = ring.read_from(piece.pos, block)
            except RingOverrun as exc:
                self._skip(piece, exc.oldest)
                continue
            piece.pos += got
            return block[:got]

    def _skip(self, piece: _Piece, to: int) -> None:
        if to > piece.pos:
            self.overruns += 1
            self.lost_s += (to - piece.pos) / piece.feed.rate
            piece.pos = to


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    parts = [p for p in parts if p.size]
    if not parts:
        return _EMPTY
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
