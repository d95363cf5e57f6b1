"""What a feedback stage is: something that shows or plays the daemon's state to the user.

A feedback part receives every daemon event ({"event": kind, "ts": ..., **fields}, see daemon/events.py) on
the runner's thread and must return at once: the sound player and the indicator hand the work to their own
threads. Nothing here ever waits on the controller, and the controller never waits on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

Event = dict[str, Any]


class Feedback(Protocol):
    """One way of telling the user what the daemon is doing (a sound, a window)."""

    name: str  # "sounds", "indicator-x11": for the log and `status`

    @property
    def running(self) -> bool:
        """Its thread runs (False: not started, closed, or what it needs could not be opened)."""
        ...

    def start(self) -> None:
        """Start its thread (and open what it needs); errors are logged, never raised."""
        ...

    def handle(self, event: Event) -> None:
        """React to one daemon event; returns at once (it only queues work for its own thread)."""
        ...

    def close(self) -> None:
        """Stop its thread and release what it holds; safe to call twice."""
        ...


class EventStream(Protocol):
    """A subscription to the daemon's event bus: iterating yields events until it is closed."""

    def __iter__(self) -> Iterator[Event]: ...

    def close(self) -> None: ...
