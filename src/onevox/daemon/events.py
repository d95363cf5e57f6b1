"""The daemon's event bus: the controller publishes, IPC subscribers (`onevox events`) read.

`publish` never blocks and never waits on a subscriber: each subscription has a bounded queue, and one that
falls behind (its queue is full) is dropped: it receives a final "dropped" event and is closed, while the
publisher and every other subscriber carry on.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

DEFAULT_QUEUE_SIZE = 256


class SubscriptionClosed(Exception):
    """Raised by Subscription.get once the subscription is closed (or dropped) and its queue is empty."""


class Subscription:
    """One reader's queue of events. Each event is a dict: {"event": kind, "ts": unix time, **fields}."""

    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self._bus = bus
        self._maxsize = maxsize
        self._queue: deque[dict[str, Any]] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._closed = False
        self.dropped = False  # True when the bus dropped this subscriber for being too slow

    @property
    def closed(self) -> bool:
        return self._closed

    def get(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next event; None when `timeout` passes first; SubscriptionClosed once closed and drained."""
        with self._cond:
            if not self._queue and not self._closed:
                self._cond.wait_for(lambda: bool(self._queue) or self._closed, timeout)
            if self._queue:
                return self._queue.popleft()
            if self._closed:
                raise SubscriptionClosed("event subscription closed")
            return None

    def close(self) -> None:
        self._bus._remove(self)
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yields events until the subscription is closed."""
        while True:
            try:
                event = self.get(timeout=1.0)
            except SubscriptionClosed:
                return
            if event is not None:
                yield event

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _offer(self, event: dict[str, Any]) -> bool:
        """Queue an event without waiting; False (and the subscription is closed) when the queue is full."""
        with self._cond:
            if self._closed:
                return True
            if len(self._queue) >= self._maxsize:
                self._queue.clear()
                self._queue.append({"event": "dropped", "ts": event["ts"],
                                    "reason": f"subscriber fell {self._maxsize} events behind"})
                self._closed = True
                self.dropped = True
                self._cond.notify_all()
                return False
            self._queue.append(event)
            self._cond.notify()
            return True


class EventBus:
    """Fan-out of daemon events to any number of subscribers; thread-safe."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be positive")
        self._queue_size = queue_size
        self._subscribers: list[Subscription] = []
        self._lock = threading.Lock()
        self.published = 0  # events published since start

    def subscribe(self) -> Subscription:
        sub = Subscription(self, self._queue_size)
        with self._lock:
            self._subscribers.append(sub)
        return sub

    def publish(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Send an event to every subscriber; returns the event as sent."""
        event = {"event": kind, "ts": round(time.time(), 6), **fields}
        with self._lock:
            subscribers = list(self._subscribers)
            self.published += 1
        slow = [sub for sub in subscribers if not sub._offer(event)]
        if slow:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s not in slow]
        return event

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def close(self) -> None:
        """Close every subscription (the daemon is stopping): readers see SubscriptionClosed."""
        with self._lock:
            subscribers = list(self._subscribers)
        for sub in subscribers:
            sub.close()

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subscribers:
                self._subscribers.remove(sub)
