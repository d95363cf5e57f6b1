"""An audio file played as if it were a microphone, for benchmarks and soak tests.

A feeder thread pushes fixed blocks through the very callback `AudioCapture` gives PortAudio, into the same
ring, read out by the same `DictationReader` (pre-roll, resampling): only the hardware is missing.

- realtime=True: blocks arrive at the pace of the audio, whether or not a dictation is on, exactly like a
  warm microphone; once the queued audio is used up the "microphone" hears silence.
- realtime=False: as fast as the reader takes it. Audio flows only during a dictation (time stands still in
  between), so the first dictation starts at the beginning of the file and a later one gets as pre-roll the
  end of what came before. When everything queued has been read, `read()` also returns the resampler's
  held-back tail, so a whole file comes out at its exact 16 kHz length.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

import numpy as np

from onevox.audio.reader import DictationReader, Feed, make_input_callback
from onevox.errors import AudioError

_FAST_WAIT_S = 0.001  # how long the fast feeder waits when the reader has no room or no dictation is on


class FileAudioSource:
    """`AudioSource` that plays `audio` (mono samples at `rate` Hz); `feed()` queues more."""

    def __init__(self, audio: np.ndarray, rate: int, realtime: bool = True, *, block_ms: int = 10,
                 ring_s: float = 10.0) -> None:
        if rate <= 0:
            raise AudioError(f"sample rate must be positive, got {rate}")
        self.device_name = "file"
        self.realtime = realtime
        self.rate = int(rate)
        self._block = max(1, round(self.rate * block_ms / 1000))
        self._block_s = self._block / self.rate
        self._feed = Feed(self.rate, ring_s)
        self._callback = make_input_callback(self._feed)
        self._scratch = np.zeros((self._block, 1), dtype=np.float32)  # one realtime block
        self._reader = DictationReader()
        self._queue: deque[np.ndarray] = deque()
        self._pending = 0  # queued samples not yet written into the ring
        self._lock = threading.Lock()  # queue + writes, so `exhausted` is exact
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.feed(audio)

    def feed(self, audio: np.ndarray) -> None:
        """Queue more audio (mono, at this source's rate) behind what is still to be played."""
        samples = np.asarray(audio, dtype=np.float32)
        if samples.ndim != 1:
            raise AudioError(f"expected mono (1-D) audio, got shape {samples.shape}")
        with self._lock:
            if samples.size:
                self._queue.append(np.ascontiguousarray(samples))
                self._pending += samples.size

    @property
    def exhausted(self) -> bool:
        """All queued audio has entered the ring."""
        return self._pending == 0

    # --- AudioSource -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        target = self._run_realtime if self.realtime else self._run_fast
        self._thread = threading.Thread(target=target, name="onevox-file-feeder", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._reader.discard()

    def begin(self, pre_roll_ms: int) -> None:
        if self._thread is None:
            self.start()
        self._reader.begin(self._feed, pre_roll_ms)

    def read(self, timeout: float) -> np.ndarray:
        if not self.realtime:
            with self._lock:
                drained = self._pending == 0
            if drained:
                return self._reader.read_flushed()
        return self._reader.read(timeout)

    def end(self) -> None:
        self._reader.end()

    def status(self) -> dict[str, Any]:
        return {
            "device": self.device_name,
            "rate": self.rate,
            "open": self._thread is not None,
            "error": None,
            "realtime": self.realtime,
            "recording": self._reader.active,
            "pending_s": round(self._pending / self.rate, 3),
            "overruns": self._reader.overruns,
            "lost_audio_s": round(self._reader.lost_s, 3),
        }

    # --- feeder ------------------------------------------------------------------------------------
    def _run_realtime(self) -> None:
        start = time.monotonic()
        blocks = 0
        while not self._stop.is_set():
            due = start + blocks * self._block_s
            wait = due - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            with self._lock:
                self._fill_block(self._scratch[:, 0])
                self._callback(self._scratch, self._block, None, 0)
            blocks += 1

    def _run_fast(self) -> None:
        while not self._stop.is_set():
            room = self._room()
            wrote = False
            if room > 0:
                with self._lock:
                    wrote = self._write_queued(min(room, self._block))
            if not wrote:
                self._stop.wait(_FAST_WAIT_S)

    def _room(self) -> int:
        """Samples the fast feeder may write now without overwriting audio the reader still needs."""
        if not self._reader.active:
            return 0
        pos = self._reader.position(self._feed)
        if pos is None:
            return 0
        return self._feed.ring.capacity - (self._feed.ring.written - pos)

    def _fill_block(self, out: np.ndarray) -> None:
        """Fill `out` with the next queued samples, silence after the queue runs out (caller holds the
        lock)."""
        filled = 0
        while filled < out.size and self._queue:
            head = self._queue[0]
            n = min(out.size - filled, head.size)
            out[filled:filled + n] = head[:n]
            self._consume(n)
            filled += n
        out[filled:] = 0.0

    def _consume(self, n: int) -> None:
        head = self._queue[0]
        self._pending -= n
        if n == head.size:
            self._queue.popleft()
        else:
            self._queue[0] = head[n:]

    def _write_queued(self, limit: int) -> bool:
        """Push up to `limit` queued samples through the input callback (caller holds the lock)."""
        if not self._queue:
            return False
        block = self._queue[0][:limit]
        self._callback(block[:, np.newaxis], block.size, None, 0)
        self._consume(block.size)
        return True
