"""A pre-allocated float32 ring buffer between the PortAudio callback (one producer) and the capture worker
(one consumer).

Positions are absolute: `written` counts every sample ever written and never wraps, so a reader asks for
"the samples from position P on". The writer never waits for the reader: when the ring is full it
overwrites the oldest samples, and a reader that asks for overwritten samples gets `RingOverrun` telling it
where the oldest kept sample now is.

Thread safety without a lock (one writer, one reader): the writer announces the range it is about to
overwrite (`_reserved`) before copying and publishes `written` after copying, so a reader can tell, after
its own copy, whether any of the samples it copied were being replaced meanwhile.
"""

from __future__ import annotations

import numpy as np


class RingOverrun(Exception):
    """The samples asked for were overwritten before they were read."""

    def __init__(self, pos: int, oldest: int) -> None:
        self.pos = pos
        self.oldest = oldest  # the oldest position that can still be read
        super().__init__(f"ring overrun: position {pos} is gone, oldest kept is {oldest}")


class RingBuffer:
    """Fixed-size float32 ring with absolute positions and overwrite-oldest semantics."""

    __slots__ = ("_buf", "_capacity", "_reserved", "_written")

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"ring capacity must be positive, got {capacity}")
        self._buf = np.zeros(capacity, dtype=np.float32)
        self._capacity = capacity
        self._written = 0  # absolute position one past the newest sample
        self._reserved = 0  # absolute position up to which a write in progress may have overwritten

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def written(self) -> int:
        """Samples written since creation (the position the next write starts at)."""
        return self._written

    @property
    def oldest(self) -> int:
        """The oldest position that can still be read."""
        return max(0, self._written - self._capacity)

    def write(self, samples: np.ndarray) -> None:
        """Copy 1-D float32 `samples` in, overwriting the oldest when full. Never allocates, blocks or logs
        (only numpy slice copies into the pre-allocated array)."""
        n = samples.shape[0]
        cap = self._capacity
        written = self._written
        end_pos = written + n
        self._reserved = end_pos
        if n >= cap:
            # only the newest `cap` samples survive; put each at its usual index (position % cap)
            tail = samples[n - cap:]
            shift = end_pos % cap
            self._buf[shift:] = tail[: cap - shift]
            self._buf[:shift] = tail[cap - shift:]
        else:
            start = written % cap
            stop = start + n
            if stop <= cap:
                self._buf[start:stop] = samples
            else:
                first = cap - start
                self._buf[start:] = samples[:first]
                self._buf[: n - first] = samples[first:]
        self._written = end_pos

    def read_from(self, pos: int, out: np.ndarray) -> int:
        """Copy the samples from absolute position `pos` into `out` (up to len(out) of them) and return how
        many were copied (0 when `pos` is the newest position). Raises RingOverrun when some of them were
        overwritten before or while they were copied."""
        written = self._written
        if pos > written or pos < 0:
            raise ValueError(f"position {pos} is outside 0..{written}")
        cap = self._capacity
        if pos < written - cap:
            raise RingOverrun(pos, written - cap)
        n = min(len(out), written - pos)
        if n == 0:
            return 0
        start = pos % cap
        stop = start + n
        if stop <= cap:
            out[:n] = self._buf[start:stop]
        else:
            first = cap - start
            out[:first] = self._buf[start:]
            out[first:n] = self._buf[: n - first]
        oldest_now = self._reserved - cap
        if pos < oldest_now:
            raise RingOverrun(pos, max(0, self._written - cap))
        return n
