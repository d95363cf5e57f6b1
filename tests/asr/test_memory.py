"""release_free_memory on this (glibc) Linux machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from onevox.asr.memory import limit_heap_arenas, release_free_memory


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


_COUNT_ARENAS = """
import ctypes, sys, threading
from onevox.asr.memory import limit_heap_arenas
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
if sys.argv[1] == "limit":
    assert limit_heap_arenas(1)
alive = threading.Barrier(4)  # all four at once: a finished thread's arena is handed to the next one


def allocate():
    libc.malloc(4096)
    alive.wait()


threads = [threading.Thread(target=allocate) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
libc.malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


def _arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", _COUNT_ARENAS, mode], capture_output=True, text=True,
                          check=True, env=env)
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_threads_share_one_heap_arena_once_limited() -> None:
    assert _arenas("default") >= 3  # glibc gives new threads arenas of their own
    assert _arenas("limit") == 1


def test_a_malloc_arena_max_the_user_set_wins(monkeypatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_heap_arenas() is False
