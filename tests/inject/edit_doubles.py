"""Doubles of the edit commands' key sender and typing watch (the real ones: test_edits_x11.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from onevox.errors import InjectionError


class FakeKeys:
    name = "fake-keys"

    def __init__(self, watcher: FakeWatcher) -> None:
        self.watcher = watcher
        self.pressed: list[tuple[str, int]] = []
        self.error = ""

    def unavailable_reason(self) -> str | None:
        return None

    def press(self, key: str, count: int = 1) -> None:
        assert self.watcher.inside_own, "keys sent outside own_input() would look like the user's"
        if self.error:
            raise InjectionError(self.error)
        self.pressed.append((key, count))


class FakeWatcher:
    def __init__(self) -> None:
        self.presses = 0
        self.window: tuple[int, ...] = (42,)
        self.reason: str | None = None
        self.inside_own = False

    def unavailable_reason(self) -> str | None:
        return self.reason

    @contextmanager
    def own_input(self) -> Iterator[None]:
        self.inside_own = True
        try:
            yield
        finally:
            self.inside_own = False

    def user_presses(self) -> int:
        return self.presses

    def focus(self) -> tuple[int, ...]:
        return self.window

    def close(self) -> None:
        return None
