import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from onevox.audio.ring import RingBuffer, RingOverrun


def ramp(start: int, n: int) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.float32)


def test_positions_start_at_zero_and_grow() -> None:
    ring = RingBuffer(8)
    assert (ring.capacity, ring.written, ring.oldest) == (8, 0, 0)
    ring.write(ramp(0, 5))
    ring.write(ramp(5, 0))
    assert (ring.written, ring.oldest) == (5, 0)


def test_read_from_a_position() -> None:
    ring = RingBuffer(8)
    ring.write(ramp(0, 6))
    out = np.zeros(4, dtype=np.float32)
    assert ring.read_from(2, out) == 4
    assert out.tolist() == [2, 3, 4, 5]
    assert ring.read_from(6, out) == 0


def test_read_is_limited_by_what_was_written() -> None:
    ring = RingBuffer(8)
    ring.write(ramp(0, 3))
    out = np.full(10, -1, dtype=np.float32)
    assert ring.read_from(1, out) == 2
    assert out[:3].tolist() == [1, 2, -1]


def test_wraparound_keeps_order() -> None:
    ring = RingBuffer(8)
    ring.write(ramp(0, 6))
    ring.write(ramp(6, 5))  # wraps: positions 3..10 are kept
    assert (ring.written, ring.oldest) == (11, 3)
    out = np.zeros(8, dtype=np.float32)
    assert ring.read_from(3, out) == 8
    assert out.tolist() == list(range(3, 11))


def test_overrun_is_detected_and_says_where_to_resume() -> None:
    ring = RingBuffer(8)
    ring.write(ramp(0, 20))
    with pytest.raises(RingOverrun) as info:
        ring.read_from(5, np.zeros(4, dtype=np.float32))
    assert info.value.oldest == 12
    out = np.zeros(8, dtype=np.float32)
    assert ring.read_from(info.value.oldest, out) == 8
    assert out.tolist() == list(range(12, 20))


def test_write_larger_than_capacity_keeps_the_newest() -> None:
    ring = RingBuffer(8)
    ring.write(ramp(0, 3))
    ring.write(ramp(3, 19))  # 22 written, one write bigger than the ring
    out = np.zeros(8, dtype=np.float32)
    assert ring.read_from(14, out) == 8
    assert out.tolist() == list(range(14, 22))
    ring.write(ramp(22, 3))  # later writes still land where they belong
    assert ring.read_from(17, out) == 8
    assert out.tolist() == list(range(17, 25))


def test_positions_outside_the_written_range_are_rejected() -> None:
    ring = RingBuffer(8)
    ring.write(ramp(0, 4))
    with pytest.raises(ValueError):
        ring.read_from(5, np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError):
        ring.read_from(-1, np.zeros(2, dtype=np.float32))


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RingBuffer(0)


def test_write_does_not_reallocate_storage() -> None:
    ring = RingBuffer(16)
    storage = ring._buf
    for start in range(0, 200, 7):
        ring.write(ramp(start, 7))
    ring.write(ramp(200, 40))
    assert ring._buf is storage


def test_concurrent_reader_never_sees_torn_samples() -> None:
    """A writer thread races a reader that sits right at the overwrite edge, with thread switches forced
    often: every read that does not raise RingOverrun must hold exactly the samples of its positions."""
    ring = RingBuffer(256)
    done = threading.Event()

    def writer() -> None:
        pos = 0
        while not done.is_set():
            ring.write((np.arange(pos, pos + 37) % 2**24).astype(np.float32))  # exact in float32
            pos += 37

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    thread = threading.Thread(target=writer)
    thread.start()
    out = np.zeros(200, dtype=np.float32)
    checked = overruns = 0
    try:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            pos = max(0, ring.written - ring.capacity + 5)  # as close to the edge as possible
            try:
                n = ring.read_from(pos, out)
            except RingOverrun:
                overruns += 1
                continue
            expected = np.arange(pos, pos + n) % 2**24
            assert np.array_equal(out[:n], expected.astype(np.float32))
            checked += n
    finally:
        done.set()
        thread.join()
        sys.setswitchinterval(old_interval)
    assert checked > 0


def test_read_overlapping_a_write_in_progress_is_an_overrun() -> None:
    """The writer announces what it is about to overwrite before copying; a read that copied any of
    those samples meanwhile must not be trusted."""
    ring = RingBuffer(8)
    ring.write(ramp(0, 8))
    out = np.zeros(4, dtype=np.float32)
    ring._reserved = ring.written + 3  # a 3-sample write has started: positions 0..2 are being replaced
    with pytest.raises(RingOverrun):
        ring.read_from(1, out)
    assert ring.read_from(3, out) == 4  # untouched positions are still fine
    assert out.tolist() == [3, 4, 5, 6]


class RingModel(RuleBasedStateMachine):
    """RingBuffer against a plain list of everything ever written."""

    @initialize(capacity=st.integers(1, 40))
    def setup(self, capacity: int) -> None:
        self.ring = RingBuffer(capacity)
        self.model: list[float] = []

    @rule(n=st.integers(0, 100))
    def write(self, n: int) -> None:
        self.ring.write(ramp(len(self.model), n))
        self.model.extend(float(v) for v in range(len(self.model), len(self.model) + n))

    @rule(data=st.data(), size=st.integers(0, 60))
    def read(self, data: st.DataObject, size: int) -> None:
        pos = data.draw(st.integers(0, len(self.model)))
        out = np.zeros(size, dtype=np.float32)
        oldest = max(0, len(self.model) - self.ring.capacity)
        if pos < oldest:
            with pytest.raises(RingOverrun) as info:
                self.ring.read_from(pos, out)
            assert info.value.oldest == oldest
            return
        n = self.ring.read_from(pos, out)
        expected = self.model[pos:pos + size]
        assert n == len(expected)
        assert out[:n].tolist() == expected

    @invariant()
    def positions_match(self) -> None:
        if hasattr(self, "ring"):
            assert self.ring.written == len(self.model)
            assert self.ring.oldest == max(0, len(self.model) - self.ring.capacity)


TestRingModel = RingModel.TestCase
TestRingModel.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
