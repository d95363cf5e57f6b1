"""What the daemon knows about its own health, for `status` and the event stream: the last error and which
stage it came from, the audio device's last word, config reloads, counts. Workers and the controller report
here; nothing here changes the state machine.

An error stays in `last_error` until the stage it came from works again (a history write that fails on a full
disk is cleared by the next one that succeeds), so status never shows a problem that is already gone.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from onevox import __version__
from onevox.clock import SYSTEM_CLOCK, Clock
from onevox.daemon.events import EventBus


@dataclass(frozen=True)
class ReloadReport:
    """The result of one config reload, as IPC `reload` answers and the `config_reloaded` event says."""

    reloaded: bool
    message: str
    changed: tuple[str, ...] = ()
    restart_needed: tuple[str, ...] = ()  # changed keys that need the daemon restarted
    not_applied: tuple[str, ...] = ()  # changed keys whose stage was handed in (tests, benchmarks)
    model_reloading: bool = False  # a model that had failed to load is being loaded again
    error: str = ""  # why a config was rejected (reloaded False)

    @property
    def applied(self) -> tuple[str, ...]:
        skipped = set(self.restart_needed) | set(self.not_applied)
        return tuple(key for key in self.changed if key not in skipped)

    def fields(self) -> dict[str, Any]:
        if not self.reloaded:
            return {"reloaded": False, "error": self.error}
        out: dict[str, Any] = {"reloaded": True, "changed": list(self.changed), "applied": list(self.applied),
                               "restart_needed": list(self.restart_needed + self.not_applied),
                               "message": self.message}
        if self.model_reloading:
            out["model"] = "reloading"
        return out


class Diagnostics:
    """Thread-safe notes for status; publishes the matching events on the bus."""

    def __init__(self, bus: EventBus, clock: Clock = SYSTEM_CLOCK) -> None:
        self.bus = bus
        self._clock = clock
        self._lock = threading.Lock()
        self._started_at = clock.monotonic()
        self._error_stage = ""
        self._error = ""
        self._audio_event = ""
        self._reloads = 0
        self._reload_result = ""
        self._done = 0
        self._last_text = ""
        self._last_command = ""
        self.hotkey_backend = "none"  # set by the daemon while a hotkey listener runs
        self.feedback: Callable[[], tuple[str, ...]] = tuple  # the feedback parts running (the daemon's)

    # -- reports --------------------------------------------------------------------------------------

    def error(self, stage: str, message: str, *, dictation: int | None = None, fatal: bool = False) -> None:
        """Something failed in `stage`: status shows it until that stage works again."""
        with self._lock:
            self._error_stage, self._error = stage, message
            fields: dict[str, Any] = {"stage": stage, "message": message, "fatal": fatal}
            if dictation is not None:
                fields = {"dictation": dictation, **fields}
            self.bus.publish("error", **fields)

    def recovered(self, *stages: str) -> None:
        """These stages just worked: an error they left behind is over."""
        with self._lock:
            if self._error_stage in stages:
                self._error_stage, self._error = "", ""

    def audio(self, kind: str, message: str) -> None:
        with self._lock:
            self._audio_event = f"{kind}: {message}"
            if kind == "device_lost":
                self._error_stage, self._error = "audio", message
            elif self._error_stage == "audio":
                self._error_stage, self._error = "", ""
            self.bus.publish(kind, message=message)

    def reloaded(self, report: ReloadReport) -> None:
        with self._lock:
            self._reloads += 1
            if report.reloaded:
                self._reload_result = report.message
                if self._error_stage == "config":
                    self._error_stage, self._error = "", ""
                self.bus.publish("config_reloaded", **{k: v for k, v in report.fields().items()
                                                       if k != "reloaded"})
        if not report.reloaded:
            self.error("config", f"{report.error} (not reloaded; the old config is kept)")
            with self._lock:
                self._reload_result = f"rejected: {report.error}"

    def finished(self, text: str) -> None:
        """A dictation ended; `text` is what was injected ("" when nothing was)."""
        with self._lock:
            self._done += 1
            if text:
                self._last_text = text

    def command(self, summary: str) -> None:
        """An edit command was carried out or refused: status shows which, and why."""
        with self._lock:
            self._last_command = summary

    # -- reading --------------------------------------------------------------------------------------

    @property
    def last_error(self) -> str:
        with self._lock:
            return f"{self._error_stage}: {self._error}" if self._error else ""

    def fields(self) -> dict[str, Any]:
        """The status fields this object keeps; instant (memory only)."""
        feedback = list(self.feedback())  # the daemon's own lock: not under ours
        with self._lock:
            return {
                "dictations": self._done, "last_text": self._last_text, "last_command": self._last_command,
                "last_error": f"{self._error_stage}: {self._error}" if self._error else "",
                "audio_event": self._audio_event, "reloads": self._reloads, "reload": self._reload_result,
                "hotkey": self.hotkey_backend, "feedback": feedback,
                "uptime_s": round(self._clock.monotonic() - self._started_at, 3),
                "rss_mb": rss_mb(), "pid": os.getpid(), "version": __version__,
            }


def rss_mb() -> float:
    """Resident memory of this process from /proc (a tiny in-memory read, no disk I/O)."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            pages = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
