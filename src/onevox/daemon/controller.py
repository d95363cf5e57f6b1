"""The dictation state machine: the only place that changes the daemon's state.

    idle -> recording -> transcribing -> injecting -> idle      (+ cancel from any state, + error)

Hotkey and IPC only send commands (start, stop, toggle, cancel) through the command table (commands.py);
every command returns at once with a small result dict and never waits on the model, the audio device or the
window. The work happens on the pipeline's worker threads, which report back here. A new dictation may start
while the previous one is still being transcribed or injected: the state follows the newest dictation, and
the older one finishes on its own. What the daemon knows about its health lives in Diagnostics.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from onevox.clock import SYSTEM_CLOCK, Clock
from onevox.config import Config
from onevox.daemon.diagnostics import Diagnostics
from onevox.daemon.dictation import Pipeline
from onevox.daemon.events import EventBus
from onevox.daemon.options import PipelineOptions
from onevox.daemon.record import Dictation
from onevox.daemon.stages import Stages
from onevox.daemon.state import AudioEvent, Outcome, State
from onevox.errors import IpcError
from onevox.ipc.protocol import UNAVAILABLE
from onevox.profiles import ProfileChooser

log = logging.getLogger(__name__)

StateListener = Callable[[State], None]


class Controller:
    """Commands in, state out. Build it with the stages, `open()` it (starts the workers), `close()` it."""

    def __init__(self, config: Config, stages: Stages, bus: EventBus | None = None,
                 options: PipelineOptions | None = None, *, clock: Clock = SYSTEM_CLOCK,
                 diagnostics: Diagnostics | None = None, profiles: ProfileChooser | None = None) -> None:
        self.config = config  # the config in force (a reload replaces it): profiles apply to it
        self.profiles = profiles or ProfileChooser()
        self.stages = stages
        self.bus = bus or EventBus()
        self.clock = clock
        self.diagnostics = diagnostics or Diagnostics(self.bus, clock)
        self.pipeline = Pipeline(stages, options or PipelineOptions.from_config(config),
                                 config.post_processing, self, clock, config.commands)
        self._lock = threading.Lock()
        self._state = State.IDLE
        self._current: Dictation | None = None
        self._inflight: dict[int, Dictation] = {}
        self._next_id = 1
        self._ready = False
        self._closed = False
        self._opened = False
        self._shutdown = threading.Event()
        self._fault = ""  # why no dictation can run at all (e.g. the model is missing); "" when none
        self._no_audio = ""  # why the microphone cannot be used right now; "" while it can
        self._state_listeners: list[StateListener] = []
        self._last_profile = ""  # the profile the newest dictation runs with ("": none matched)

    # -- lifecycle ----------------------------------------------------------------------------------------

    def open(self) -> None:
        if not self._opened:
            self._opened = True
            self.pipeline.start()

    def mark_ready(self) -> None:
        """The model is warm and the daemon answers: publish `ready`."""
        with self._lock:
            self._ready = True
            self.bus.publish("ready", model=self.stages.recognizer.model_name,
                             device=self.stages.source.device_name, **_identity(self.diagnostics))

    @property
    def ready(self) -> bool:
        return self._ready

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
        self.profiles.close()

    def drain(self, timeout: float) -> bool:
        """Before stopping: refuse new dictations, end a recording as if the key were released, and wait
        (up to `timeout`, real time) for what is in flight to be typed, so a shutdown does not lose words."""
        with self._lock:
            self._closed = True
            recording = self._state is State.RECORDING
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

    def set_config(self, config: Config) -> None:
        """A reloaded config: the next dictation's profile is chosen from it."""
        self.config = config

    def add_state_listener(self, listener: StateListener) -> None:
        """`listener(state)` is called, under the controller's lock, on every change: keep it short."""
        with self._lock:
            self._state_listeners.append(listener)

    def remove_state_listener(self, listener: StateListener) -> None:
        with self._lock:
            if listener in self._state_listeners:
                self._state_listeners.remove(listener)

    # -- commands -----------------------------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    def start(self) -> dict[str, Any]:
        # the window the user is in as they start, looked up without the lock (a repeated key press while
        # recording skips it)
        choice = None if self._state is State.RECORDING else self.profiles.choose(self.config)
        with self._lock:
            if self._fault:
                raise IpcError(self._fault, code=UNAVAILABLE)
            if self._closed:
                return {"started": False, "state": self._state, "message": "the daemon is stopping"}
            if self._no_audio:  # the dictation could only fail a moment later: say so now
                raise IpcError(f"no microphone: {self._no_audio}", code=UNAVAILABLE)
            if self._state is State.RECORDING and self._current is not None:
                return {"started": False, "state": self._state, "dictation": self._current.id,
                        "message": "already recording"}
            d = Dictation(self._next_id, self.clock)
            self._next_id += 1
            if choice is None:  # the recording ended meanwhile
                choice = self.profiles.choose(self.config)
            if choice.profile:
                d.profile, d.config, d.enabled = choice.profile, choice.config, choice.enabled
                d.injection = choice.injection
            self._last_profile = d.profile
            self._current = d
            self._inflight[d.id] = d
            self._set_state(State.RECORDING)
            self.bus.publish("recording_started", dictation=d.id, profile=d.profile)
        self.pipeline.begin(d)
        message = f"dictation {d.id}"
        if not d.enabled:
            message += f" (profile {d.profile} turns dictation off in this window: history only)"
            log.info("%s", message)
        return {"started": True, "state": State.RECORDING, "dictation": d.id, "profile": d.profile,
                "message": message}

    def stop(self, reason: str = "command") -> dict[str, Any]:
        with self._lock:
            d = self._current
            if self._state is not State.RECORDING or d is None:
                return {"stopped": False, "state": self._state, "message": "not recording"}
            d.request_stop()
            self._set_state(State.TRANSCRIBING)
            held_ms = (d.release_ns - d.requested_ns) / 1e6
            self.bus.publish("recording_stopped", dictation=d.id, reason=reason, held_ms=round(held_ms, 1))
        return {"stopped": True, "state": State.TRANSCRIBING, "dictation": d.id,
                "message": f"dictation {d.id}"}

    def toggle(self) -> dict[str, Any]:
        with self._lock:
            recording = self._state is State.RECORDING
        return self.stop() if recording else self.start()

    def cancel(self) -> dict[str, Any]:
        """Throw away every dictation not yet being injected; a paste already under way cannot be undone."""
        with self._lock:
            dropped, too_late = [], []
            for d in list(self._inflight.values()):
                if d.cancel():
                    dropped.append(d.id)
                    del self._inflight[d.id]
                    self.pipeline.dropped(d)
                else:
                    too_late.append(d.id)
            previous = self._state
            self._current = None
            self._set_state(State.ERROR if self._fault else State.IDLE)
            if dropped or too_late:
                self.bus.publish("cancelled", dictations=dropped, too_late=too_late, previous=previous)
        if too_late:
            message = "too late: the text is already being typed"
        else:
            message = f"dropped dictation {', '.join(map(str, dropped))}" if dropped else "nothing to cancel"
        return {"cancelled": bool(dropped), "state": self._state, "dictations": dropped, "too_late": too_late,
                "previous": previous, "message": message}

    # -- faults -------------------------------------------------------------------------------------------

    def set_fault(self, stage: str, message: str) -> None:
        """Nothing can be dictated until this is fixed (e.g. the model is missing): state "error", every
        dictation command answers with `message`, IPC and status keep working."""
        with self._lock:
            self._fault = message
            self._set_state(State.ERROR, message=message)
        self.diagnostics.error(stage, message, fatal=True)

    def clear_fault(self) -> None:
        with self._lock:
            if self._fault:
                self._fault = ""
                self._set_state(State.IDLE)

    @property
    def fault(self) -> str:
        return self._fault

    def snapshot(self) -> dict[str, Any]:
        """The state machine's part of `status`."""
        with self._lock:
            current = self._current
            return {"state": self._state, "ready": self._ready, "dictation": current.id if current else None,
                    "in_flight": len(self._inflight), "fault": self._fault,
                    "last_profile": self._last_profile, "profiles": [p.name for p in self.config.profiles]}

    # -- reports from the audio source and the pipeline (other threads) -----------------------------------

    def on_audio_event(self, kind: str, message: str) -> None:
        """From the audio source's thread (device_lost, device_restored, device_fallback, device_changed)."""
        with self._lock:
            self._no_audio = message if kind == AudioEvent.LOST else ""
        self.diagnostics.audio(kind, message)

    def on_partial(self, d: Dictation, text: str) -> None:
        """Words settled while the user speaks (the recording indicator shows them)."""
        if not d.cancelled:
            self.bus.publish("partial", dictation=d.id, text=text)

    def on_model_loaded(self, model_name: str) -> None:
        self.clear_fault()
        self.diagnostics.recovered("model")
        self.bus.publish("model_loaded", model=model_name)
        log.info("model %s loaded", model_name)

    def on_model_failed(self, message: str) -> None:
        if self._fault:
            self.set_fault("model", message)
        else:
            self.diagnostics.error("model", f"{message}; keeping {self.stages.recognizer.model_name}")

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
                self._set_state(State.INJECTING)
            fields: dict[str, Any] = {"dictation": d.id, "text": d.text, "raw_text": d.raw_text,
                                      "audio_s": round(d.audio_s, 3), "segments": d.segments,
                                      "early_segments": d.early_segments, "reused": d.reused,
                                      "post_roll": d.post_roll, "passes": d.passes,
                                      "timings": dict(d.timings), "empty": empty, "language": d.language,
                                      "language_prob": None if d.language_prob is None
                                      else round(d.language_prob, 3)}
            if d.profile:
                fields["profile"] = d.profile
            if empty:
                fields["note"] = "no speech recognised: nothing injected"
            if d.command:  # carried out, not typed: the "command" event says how it went
                fields["command"] = d.command
            elif not d.enabled:
                fields["note"] = (f"profile {d.profile} turns dictation off in this window: kept in the "
                                  "history, nothing injected")
            if d.recording_path:
                fields["recording"] = d.recording_path
            self.bus.publish("transcribed", **fields)

    def on_done(self, d: Dictation) -> None:
        with self._lock:
            self._inflight.pop(d.id, None)
            if d.cancelled and d.outcome is not Outcome.INJECTED:
                return
            if d.outcome is Outcome.INJECTED:
                self.bus.publish("injected", dictation=d.id, method=d.method, history_id=d.history_id,
                                 profile=d.profile, timings=dict(d.timings))
            elif d.command:
                done = d.outcome is Outcome.COMMAND
                self.bus.publish("command", dictation=d.id, command=d.command, done=done,
                                 message=d.command_result, method=d.method, history_id=d.history_id)
                self.diagnostics.command(f"{d.command}: {'done' if done else 'refused'}: {d.command_result}")
            if d is self._current:
                self._current = None
                if d.outcome is Outcome.EMPTY and d.errors:  # nothing came out because something failed
                    self._set_state(State.ERROR, message=d.errors[-1])
                else:
                    self._set_state(State.IDLE)
        self.diagnostics.finished(d.text if d.outcome is Outcome.INJECTED else "")
        self._note_recovery(d)

    def on_error(self, d: Dictation, stage: str, message: str, *, fatal: bool) -> None:
        self.diagnostics.error(stage, message, dictation=d.id, fatal=fatal)
        with self._lock:
            if not fatal:
                d.errors.append(f"{stage}: {message}")
                return
            d.cancel()
            self.pipeline.dropped(d)
            self._inflight.pop(d.id, None)
            if d is self._current:
                self._current = None
                self._set_state(State.ERROR, message=f"{stage}: {message}")
        log.warning("dictation %d failed in %s: %s", d.id, stage, message)

    # -- internals ----------------------------------------------------------------------------------------

    def _note_recovery(self, d: Dictation) -> None:
        """Stages that worked for this dictation clear the errors they left in status."""
        failed = {error.split(":", 1)[0] for error in d.errors}
        worked = ["capture", "audio", "vad"]
        if d.texts:
            worked.append("inference")
        if d.history_id and "history" not in failed:
            worked.append("history")
        if d.outcome is Outcome.INJECTED:
            worked.append("injection")
        if d.recording_path:
            worked.append("recording")
        self.diagnostics.recovered(*(stage for stage in worked if stage not in failed))

    def _set_state(self, state: State, **fields: Any) -> None:
        """Caller holds the lock."""
        if state is self._state:
            return
        previous, self._state = self._state, state
        self.bus.publish("state", state=state, previous=previous, **fields)
        for listener in self._state_listeners:
            try:
                listener(state)
            except Exception:
                log.exception("state listener failed")


def _identity(diagnostics: Diagnostics) -> dict[str, Any]:
    fields = diagnostics.fields()
    return {"pid": fields["pid"], "version": fields["version"]}
