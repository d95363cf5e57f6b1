"""Collects the commands a hotkey listener sends (called from the listener's thread)."""

from __future__ import annotations

import threading
import time


class Recorder:
    def __init__(self) -> None:
        self.commands: list[str] = []
        self._cond = threading.Condition()

    def __call__(self, command: str) -> None:
        with self._cond:
            self.commands.append(command)
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[str]:
        """The commands once there are `count` of them (or whatever came within the timeout)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.commands) >= count, timeout)
            return list(self.commands)

    def settled(self, quiet: float = 0.3) -> list[str]:
        """The commands after none has arrived for `quiet` seconds (to see that nothing extra follows)."""
        while True:
            before = len(self.commands)
            time.sleep(quiet)
            with self._cond:
                if len(self.commands) == before:
                    return list(self.commands)
