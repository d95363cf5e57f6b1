"""Config changes while the daemon runs: SIGHUP, or the config file's mtime changing, reloads the file.

A valid new config is applied key by key (each stage is swapped on the worker thread that uses it, between two
dictations); an invalid one is rejected with its ConfigError line and the old config is kept. No key is
ignored silently: a key that cannot change live is named in the `config_reloaded` event ("restart needed").
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from pathlib import Path

from onevox.config import Config

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 2.0
# a file seen changing is read once it has kept one mtime and size this long: a program that truncates and
# rewrites it in place must not have its half-written file applied (SIGHUP reads at once: the user is done)
SETTLE_S = 0.2
SETTLE_MAX_S = 2.0

# keys whose change needs a daemon restart (the socket is what clients find the daemon by; the history
# database is opened once)
RESTART_NEEDED = ("daemon.socket", "history.enabled", "history.path", "history.max_entries")
# keys read when needed (nothing to rebuild)
READ_LIVE = ("daemon.log_level", "daemon.trace_path")


def changed_keys(old: Config, new: Config) -> list[str]:
    """`section.key` for every value that differs between two configs."""
    changed = []
    for section in fields(Config):
        before, after = getattr(old, section.name), getattr(new, section.name)
        if not is_dataclass(before):
            continue
        changed += [f"{section.name}.{key.name}" for key in fields(before)
                    if getattr(before, key.name) != getattr(after, key.name)]
    if old.profiles != new.profiles:  # read at each dictation's start: nothing to rebuild
        changed.append("profiles")
    return changed


def restart_needed(keys: list[str]) -> list[str]:
    return [key for key in keys if key in RESTART_NEEDED]


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


class ConfigWatcher:
    """A thread that calls `on_change()` when the config file's mtime or size changes (polled every
    `interval_s`, one stat call) or when `kick()` is called (SIGHUP). Calls never overlap."""

    def __init__(self, path: Path, on_change: Callable[[], None],
                 interval_s: float = POLL_INTERVAL_S) -> None:
        self.path = path
        self.on_change = on_change
        self.interval_s = interval_s
        self._kicked = threading.Event()
        self._stopped = threading.Event()
        self._stamp = _stamp(path)
        self._thread = threading.Thread(target=self._run, name="onevox-config", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def kick(self) -> None:
        """Reload now (safe from a signal handler: only sets an event)."""
        self._kicked.set()

    def stop(self) -> None:
        self._stopped.set()
        self._kicked.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5.0)

    def _settled(self, stamp: tuple[int, int] | None) -> tuple[int, int] | None:
        """Wait until the file has stopped changing (or SETTLE_MAX_S, or a kick, or stop)."""
        deadline = time.monotonic() + SETTLE_MAX_S
        while time.monotonic() < deadline:
            if self._kicked.wait(SETTLE_S) or self._stopped.is_set():
                return _stamp(self.path)
            now = _stamp(self.path)
            if now == stamp:
                return now
            stamp = now
        return stamp

    def _run(self) -> None:
        while not self._stopped.is_set():
            kicked = self._kicked.wait(self.interval_s)
            self._kicked.clear()
            if self._stopped.is_set():
                return
            stamp = _stamp(self.path)
            if not kicked and stamp == self._stamp:
                continue
            if not kicked:
                stamp = self._settled(stamp)
            self._stamp = stamp
            try:
                self.on_change()
            except Exception:  # a reload must never take the daemon down
                log.exception("config reload failed")
