"""Feeds the daemon's events to the feedback parts on one thread of its own.

The runner reads a bus subscription and calls each part's `handle`, which only queues work: the controller
publishes without waiting, so nothing here can slow a dictation. Should the bus drop the subscription (it fell
256 events behind), the runner subscribes again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from onevox.feedback.base import EventStream, Feedback

log = logging.getLogger(__name__)


class FeedbackRunner:
    def __init__(self, subscribe: Callable[[], EventStream], parts: Sequence[Feedback]) -> None:
        self.parts = list(parts)
        self._subscribe = subscribe
        self._lock = threading.Lock()
        self._stream: EventStream | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="onevox-feedback", daemon=True)

    def start(self) -> None:
        """Subscribe (so no event published after this returns is missed) and start the parts."""
        self._stream = self._subscribe()
        for part in self.parts:
            try:
                part.start()
            except Exception:
                log.exception("feedback %s failed to start", part.name)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            stream = self._stream
        if stream is not None:
            stream.close()
        if self._thread.is_alive():
            self._thread.join(3.0)
        for part in self.parts:
            try:
                part.close()
            except Exception:
                log.exception("feedback %s failed to close", part.name)

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                if self._stream is None:
                    self._stream = self._subscribe()
                stream = self._stream
            for event in stream:
                for part in self.parts:
                    try:
                        part.handle(event)
                    except Exception:
                        log.exception("feedback %s failed on %s", part.name, event.get("event"))
            with self._lock:
                self._stream = None
