"""The dictation state machine: the only place that changes the daemon's state.

    idle -> recording -> transcribing -> injecting -> idle      (+ cancel from any state, + error)

Hotkey and IPC only send commands (start, stop, toggle, cancel); every command returns at once with a small
result dict and never waits on the model, the audio device or the window. The work happens on the pipeline's
worker threads, which report back here. A new dictation may start while the previous one is still being
transcribed or injected: the state follows the newest dictation, and the older one finishes on its own.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from onevox import __version__
from onevox.config import Config
from onevox.daemon.dictation import Pipeline, PipelineOptions, Stages
from onevox.daemon.events import EventBus
from onevox.daemon.record import Dictation
from onevox.errors import IpcError, OnevoxError
from onevox.ipc.protocol import UNAVAILABLE

log = logging.getLogger(__name__)

STATES = ("idle", "recording", "transcribing", "injecting", "error")
COMMANDS = ("ping", "status", "toggle", "start_dictation", "stop_dictation", "cancel", "shutdown", "reload")
_HOTKEY_COMMANDS = ("start", "stop", "toggle", "cancel")


class Controller:
    """Commands in, state out. Build it with the stages, `open()` it (starts the workers), `close()` it."""

    def __init__(self, config: Config, stages: Stages, bus: EventBus | None = None,
                 options: PipelineOptions | None = None) -> None:
        self.config = config
        self.stages = stages
        self.bus = bus or EventBus()
        self.metrics = stages.metrics
        self.pipeline = Pipeline(stages, options or PipelineOptions.from_config(config),
                                 config.post_processing, self)
        self._lock = threading.Lock()
        self._state = "idle"
        self._current: Dictation | None = None
        self._inflight: dict[int, Dictation] = {}
        self._next_id = 1
        self._done = 0
        self._last_text = ""
        self._last_error = ""
        self._ready = False
        self._closed = False
        self._opened = False
        self._audio_event = ""
        self._started_at = time.monotonic()
        self._shutdown = threading.Event()
        self.hotkey_backend = "none"  # set by the daemon once a hotkey listener runs
        self._fault = ""  # why no dictation can run at all (e.g. the model is missing); "" when none
        self.state_listeners: list[Callable[[str], None]] = []  # called (under the lock) on each change
        self.reload_handler: Callable[[], dict[str, Any]] | None = None  # set by the daemon
        self._reloads = 0  # config reloads tried (applied or rejected)
        self._reload_result = ""

    # -- lifecycle ----------------------------------------------------------------------------------------

    def open(self) -> None:
        if not self._opened:
            self._opened = True
            self.pipeline.start()

    def mark_ready(self) -> None:
        """The model is warm and the daemon answers: publish `ready`."""
        with self._lock:
            self._ready = True
            self.bus.publish("ready", model=self._model_name(), device=self._device_name(), pid=os.getpid(),
                             version=__version__)

    def close(self, timeout: float = 5.0) -> None:
        """Drop whatever is in flight and stop the workers (the daemon is stopping)."""
        with self._lock:
            self._closed = True
            for d in self._inflight.values():
                d.cancel()
            self._inflight.clear()
            self._current = None
        if self._opened:
            self.pipeline.close(timeout)

    def drain(self, timeout: float) -> bool:
        """Before stopping: refuse new dictations, end a recording as if the key were released, and wait
        (up to `timeout`) for what is in flight to be typed, so a shutdown does not lose words."""
        with self._lock:
            self._closed = True
            recording = self._state == "recording"
        if recording:
            self.stop(reason="shutdown")
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if not self._inflight or not self._opened:
                    return True
            if time.monotonic() >= deadline:
                log.warning("stopping with %d dictation(s) still in flight", len(self._inflight))
                return False
            time.sleep(0.02)

    def shutdown(self) -> dict[str, Any]:
        """Ask the daemon to stop (IPC `shutdown`); returns at once, the main thread does the rest."""
        self._shutdown.set()
        self.bus.publish("shutdown")
        return {"shutting_down": True}

    @property
    def shutdown_requested(self) -> bool:
        return self._shutdown.is_set()

    def wait_for_shutdown(self, timeout: float | None = None) -> bool:
        return self._shutdown.wait(timeout)

    # -- commands -----------------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    def start(self) -> dict[str, Any]:
        with self._lock:
            if self._fault:
                raise IpcError(self._fault, code=UNAVAILABLE)
            if self._closed:
                return {"started": False, "state": self._state, "message": "the daemon is stopping"}
            if self._state == "recording" and self._current is not None:
                return {"started": False, "state": self._state, "dictation": self._current.id,
                        "message": "already recording"}
            d = Dictation(self._next_id)
            self._next_id += 1
            self._current = d
            self._inflight[d.id] = d
            self._set_state("recording")
            self.bus.publish("recording_started", dictation=d.id)
        self.pipeline.begin(d)
        return {"started": True, "state": "recording", "dictation": d.id, "message": f"dictation {d.id}"}

    def stop(self, reason: str = "command") -> dict[str, Any]:
        with self._lock:
            d = self._current
            if self._state != "recording" or d is None:
                return {"stopped": False, "state": self._state, "message": "not recording"}
            d.request_stop()
            self._set_state("transcribing")
            held_ms = (d.release_ns - d.requested_ns) / 1e6
            self.bus.publish("recording_stopped", dictation=d.id, reason=reason, held_ms=round(held_ms, 1))
        return {"stopped": True, "state": "transcribing", "dictation": d.id, "message": f"dictation {d.id}"}

    def toggle(self) -> dict[str, Any]:
        with self._lock:
            recording = self._state == "recording"
        return self.stop() if recording else self.start()

    def cancel(self) -> dict[str, Any]:
        """Throw away every dictation not yet being injected; a paste already under way cannot be undone."""
        with self._lock:
            dropped, too_late = [], []
            for d in list(self._inflight.values()):
                if d.cancel():
                    dropped.append(d.id)
                    del self._inflight[d.id]
                else:
                    too_late.append(d.id)
            previous = self._state
            self._current = None
            self._set_state("idle")
            if dropped or too_late:
                self.bus.publish("cancelled", dictations=dropped, too_late=too_late, previous=previous)
        if too_late:
            message = "too late: the text is already being typed"
        else:
            message = f"dropped dictation {', '.join(map(str, dropped))}" if dropped else "nothing to cancel"
        return {"cancelled": bool(dropped), "state": "idle", "dictations": dropped, "too_late": too_late,
                "previous": previous, "message": message}

    def on_hotkey_command(self, command: str) -> None:
        """Called by the hotkey listener thread with 'start', 'stop', 'toggle' or 'cancel'."""
        if command not in _HOTKEY_COMMANDS:
            log.warning("ignoring unknown hotkey command %r", command)
            return
        try:
            {"start": self.start, "stop": self.stop, "toggle": self.toggle, "cancel": self.cancel}[command]()
        except OnevoxError as exc:  # e.g. no model: status and the error event already say so
            log.warning("hotkey %s refused: %s", command, exc)

    def on_audio_event(self, kind: str, message: str) -> None:
        """Called by the audio source (device_lost, device_restored, device_fallback)."""
        with self._lock:
            self._audio_event = f"{kind}: {message}"
            if kind == "device_lost":
                self._last_error = f"audio: {message}"
            self.bus.publish(kind, message=message)

    def note_problem(self, stage: str, message: str) -> None:
        """A problem outside any dictation (no hotkey, no history) that the user should see in status."""
        with self._lock:
            self._last_error = f"{stage}: {message}"
            self.bus.publish("error", stage=stage, message=message, fatal=False)

    def set_fault(self, stage: str, message: str) -> None:
        """Nothing can be dictated until this is fixed (e.g. the model is missing): state "error", every
        dictation command answers with `message`, IPC and status keep working."""
        with self._lock:
            self._fault = message
            self._last_error = f"{stage}: {message}"
            self._set_state("error", message=message)
            self.bus.publish("error", stage=stage, message=message, fatal=True)

    def clear_fault(self) -> None:
        with self._lock:
            if self._fault:
                self._fault = ""
                self._set_state("idle")

    @property
    def fault(self) -> str:
        return self._fault

    def note_reload(self, **fields: Any) -> None:
        """A config reload was applied (fields: changed, restart_needed, message, ...)."""
        with self._lock:
            self._reloads += 1
            self._reload_result = str(fields.get("message", "reloaded"))
            self.bus.publish("config_reloaded", **fields)

    def note_reload_rejected(self, message: str) -> None:
        """The config file is invalid: the old config is kept."""
        self.note_problem("config", f"{message} (not reloaded; the old config is kept)")
        with self._lock:
            self._reloads += 1
            self._reload_result = f"rejected: {message}"

    def _reload(self) -> dict[str, Any]:
        if self.reload_handler is None:
            raise IpcError("this daemon cannot reload its config", code=UNAVAILABLE)
        return self.reload_handler()

    def dispatch(self, cmd: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """The IPC entry point: one command name and its arguments -> a result dict."""
        handlers = {
            "ping": self._ping, "status": self.status, "toggle": self.toggle, "start_dictation": self.start,
            "stop_dictation": self.stop, "cancel": self.cancel, "shutdown": self.shutdown,
            "reload": self._reload,
        }
        handler = handlers.get(cmd)
        if handler is None:
            raise IpcError(f"unknown command {cmd!r}; known: {', '.join(COMMANDS)}", code="unknown_command")
        return handler()

    # -- status -------------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Instant: reads what is already known, never waits on the model, the device or the disk."""
        with self._lock:
            current = self._current
            snapshot = {
                "state": self._state, "ready": self._ready, "dictation": current.id if current else None,
                "dictations": self._done, "in_flight": len(self._inflight), "last_text": self._last_text,
                "last_error": self._last_error, "audio_event": self._audio_event, "fault": self._fault,
                "reloads": self._reloads, "reload": self._reload_result,
            }
        snapshot.update({
            "model": self._model_name(), "device": self._device_name(),
            "injector": getattr(self.stages.injector, "name", ""), "hotkey": self.hotkey_backend,
            "history": self.stages.history is not None,
            "uptime_s": round(time.monotonic() - self._started_at, 3), "rss_mb": _rss_mb(),
            "pid": os.getpid(), "version": __version__, "latencies": self.metrics.summary(),
        })
        return snapshot

    # -- reports from the pipeline (worker threads) -------------------------------------------------------

    def on_max_duration(self, d: Dictation) -> None:
        with self._lock:
            is_current = d is self._current
        if is_current:
            log.info("dictation %d reached audio.max_dictation_s; stopping it", d.id)
            self.stop(reason="max_duration")

    def on_transcribed(self, d: Dictation) -> None:
        with self._lock:
            if d.cancelled:
                return
            empty = not d.text.strip()
            if d is self._current and not empty:
                self._set_state("injecting")
            fields: dict[str, Any] = {"dictation": d.id, "text": d.text, "raw_text": d.raw_text,
                                      "audio_s": round(d.audio_s, 3), "segments": d.segments,
                                      "early_segments": d.early_segments, "reused": d.reused,
                                      "post_roll": d.post_roll, "timings": dict(d.timings), "empty": empty}
            if empty:
                fields["note"] = "no speech recognised: nothing injected"
            if d.recording_path:
                fields["recording"] = d.recording_path
            self.bus.publish("transcribed", **fields)

    def on_done(self, d: Dictation) -> None:
        with self._lock:
            self._inflight.pop(d.id, None)
            if d.cancelled and d.outcome != "injected":
                return
            self._done += 1
            if d.outcome == "injected":
                self._last_text = d.text
                self.bus.publish("injected", dictation=d.id, method=d.method, history_id=d.history_id,
                                 timings=dict(d.timings))
            if d is self._current:
                self._current = None
                if d.outcome == "empty" and d.errors:  # nothing came out because something failed
                    self._set_state("error", message=d.errors[-1])
                else:
                    self._set_state("idle")

    def on_error(self, d: Dictation, stage: str, message: str, *, fatal: bool) -> None:
        with self._lock:
            self._last_error = f"{stage}: {message}"
            self.bus.publish("error", dictation=d.id, stage=stage, message=message, fatal=fatal)
            if not fatal:
                d.errors.append(f"{stage}: {message}")
                return
            d.cancel()
            self._inflight.pop(d.id, None)
            if d is self._current:
                self._current = None
                self._set_state("error", message=f"{stage}: {message}")
        log.warning("dictation %d failed in %s: %s", d.id, stage, message)

    # -- internals ----------------------------------------------------------------------------------------

    def _set_state(self, state: str, **fields: Any) -> None:
        """Caller holds the lock."""
        if state == self._state:
            return
        previous, self._state = self._state, state
        self.bus.publish("state", state=state, previous=previous, **fields)
        for listener in self.state_listeners:
            try:
                listener(state)
            except Exception:
                log.exception("state listener failed")

    def _ping(self) -> dict[str, Any]:
        return {"pong": True, "pid": os.getpid(), "version": __version__}

    def _model_name(self) -> str:
        return str(getattr(self.stages.recognizer, "model_name", ""))

    def _device_name(self) -> str:
        return str(getattr(self.stages.source, "device_name", ""))


def _rss_mb() -> float:
    """Resident memory of this process from /proc (a tiny in-memory read, no disk I/O)."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            pages = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
