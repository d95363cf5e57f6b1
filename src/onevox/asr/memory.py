"""Hand freed heap memory back to the system.

CTranslate2 and onnxruntime allocate their work buffers with malloc on several threads; glibc keeps what they
free in per-thread arenas, so a process that once encoded a 30 s window stays ~30-60 MB bigger than it needs
to be while it waits. `malloc_trim(0)` returns those free pages (it does not move live data). It costs about
a millisecond, so it belongs after warm-up and after a dictation, never on the way to the text.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
    except (OSError, AttributeError):  # not glibc (e.g. musl has no malloc_trim)
        return None
    return libc


def release_free_memory() -> bool:
    """Return free heap pages to the system (glibc); False where that is not possible."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
