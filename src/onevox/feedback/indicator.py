"""What both recording indicators (x11.py, wayland.py) share: a thread of their own fed through a queue, and
the model of what to show (view.py). The daemon's event runner only queues; the indicator's thread applies
the events and draws."""

from __future__ import annotations

import queue
import threading
import time
from abc import ABC, abstractmethod

from onevox.feedback.base import Event
from onevox.feedback.view import IndicatorModel, IndicatorView


class QueuedIndicator(ABC):
    """Base of an indicator; a subclass implements `_run`, the thread's body, with `_next_changes`."""

    name = "indicator"

    def __init__(self) -> None:
        self.model = IndicatorModel()
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="onevox-indicator", daemon=True)

    @property
    def view(self) -> IndicatorView:
        """What it shows now (for status and tests)."""
        return self.model.view

    @property
    def running(self) -> bool:
        """Its thread runs (False: not started, closed, or what it draws on could not be opened)."""
        return self._thread.is_alive()

    def handle(self, event: Event) -> None:
        if self._thread.is_alive():
            self._queue.put(event)

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(3.0)

    @abstractmethod
    def _run(self) -> None:
        """The indicator's thread: open what it draws on, then draw what `_next_changes` brings."""

    def _next_changes(self, timeout: float | None) -> bool | None:
        """Waits up to `timeout` for events (None: until one comes), applies all that are queued, then the
        clock (an error's display time running out). Whether the view changed; None once closed."""
        changed = False
        try:
            event = self._queue.get(timeout=timeout)
            while True:  # everything queued, then one redraw
                if event is None:
                    return None
                changed |= self.model.apply(event, time.monotonic())
                event = self._queue.get_nowait()
        except queue.Empty:
            pass
        return self.model.tick(time.monotonic()) or changed
