"""Polling for a condition with a deadline: a hang fails the test instead of blocking the suite."""

from __future__ import annotations

import time
from collections.abc import Callable

WAIT_S = 10.0


def wait_until(check: Callable[[], object], timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition never became true")
        time.sleep(0.01)
