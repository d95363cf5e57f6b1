"""A pre-allocated window over a stream of samples, addressed by absolute sample index.

The segmenter appends every chunk it is given and drops what no segment can still need; dropping only
moves an offset, and the kept samples are moved to the front when the end of the buffer is reached, so a
steady stream of pushes allocates nothing.
"""

from __future__ import annotations

import numpy as np


class SampleWindow:
    def __init__(self, capacity: int) -> None:
        self._buf = np.zeros(max(1, capacity), np.float32)
        self._lo = 0  # buffer offset of the first kept sample
        self._hi = 0  # buffer offset one past the last sample
        self.start = 0  # absolute index of the first kept sample

    @property
    def end(self) -> int:
        """Absolute index one past the last sample appended."""
        return self.start + self._hi - self._lo

    @property
    def capacity(self) -> int:
        return self._buf.shape[0]

    def append(self, audio: np.ndarray) -> None:
        n = audio.shape[0]
        if self._hi + n > self._buf.shape[0]:
            self._make_room(n)
        self._buf[self._hi:self._hi + n] = audio
        self._hi += n

    def _make_room(self, n: int) -> None:
        kept = self._hi - self._lo
        if kept + n > self._buf.shape[0]:
            grown = np.zeros(max(2 * self._buf.shape[0], kept + n), np.float32)
            grown[:kept] = self._buf[self._lo:self._hi]
            self._buf = grown
        else:
            self._buf[:kept] = self._buf[self._lo:self._hi]
        self._lo, self._hi = 0, kept

    def view(self, start: int, end: int) -> np.ndarray:
        """Samples [start, end) as a view (valid until the next append)."""
        if start < self.start or end > self.end or start > end:
            raise IndexError(f"samples {start}..{end} not in window {self.start}..{self.end}")
        off = self._lo - self.start
        return self._buf[start + off:end + off]

    def copy(self, start: int, end: int) -> np.ndarray:
        return self.view(start, end).copy()

    def drop_before(self, index: int) -> None:
        """Forget samples before absolute `index` (clamped to what is held)."""
        index = min(max(index, self.start), self.end)
        self._lo += index - self.start
        self.start = index

    def clear(self) -> None:
        self._lo = self._hi = 0
        self.start = 0
