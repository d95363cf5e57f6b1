"""release_free_memory on this (glibc) Linux machine."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from onevox.asr.memory import release_free_memory


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_freed_heap_pages_are_handed_back() -> None:
    blocks = [np.ones(2048, np.float64) for _ in range(12000)]  # ~200 MB of 16 kB heap blocks
    keep = blocks[-1]  # pins the top of the heap: free() alone cannot shrink it
    del blocks
    before = _rss_kb()
    assert release_free_memory() is True
    assert before - _rss_kb() > 100_000  # over 100 MB back to the system
    assert keep.sum() == 2048
