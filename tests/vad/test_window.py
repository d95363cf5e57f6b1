from __future__ import annotations

import numpy as np
import pytest

from onevox.vad.window import SampleWindow


def test_append_view_and_drop_keep_absolute_indices() -> None:
    w = SampleWindow(10)
    w.append(np.arange(6, dtype=np.float32))
    w.drop_before(4)
    w.append(np.arange(6, 12, dtype=np.float32))  # does not fit after the offset: compacts, no growth
    assert w.capacity == 10
    assert (w.start, w.end) == (4, 12)
    np.testing.assert_array_equal(w.view(5, 9), [5, 6, 7, 8])


def test_grows_when_the_kept_audio_does_not_fit() -> None:
    w = SampleWindow(4)
    w.append(np.arange(3, dtype=np.float32))
    w.append(np.arange(3, 10, dtype=np.float32))
    assert w.capacity >= 10
    np.testing.assert_array_equal(w.copy(0, 10), np.arange(10))


def test_copy_is_independent_of_later_appends() -> None:
    w = SampleWindow(8)
    w.append(np.ones(4, np.float32))
    kept = w.copy(0, 4)
    w.drop_before(4)
    w.append(np.zeros(8, np.float32))
    np.testing.assert_array_equal(kept, np.ones(4))


def test_views_outside_the_window_raise() -> None:
    w = SampleWindow(8)
    w.append(np.zeros(8, np.float32))
    w.drop_before(3)
    with pytest.raises(IndexError):
        w.view(2, 5)
    with pytest.raises(IndexError):
        w.view(4, 9)


def test_drop_is_clamped_and_clear_restarts_at_zero() -> None:
    w = SampleWindow(8)
    w.append(np.zeros(5, np.float32))
    w.drop_before(100)
    assert (w.start, w.end) == (5, 5)
    w.clear()
    assert (w.start, w.end) == (0, 0)
