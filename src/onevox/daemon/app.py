"""The daemon in one object: builds every stage through the StageFactory, wires them to the controller, the
command table, the IPC server, the hotkey and the config watcher, and runs it.

`Daemon` is the whole daemon in-process (start()/stop()), so tests and benchmarks drive exactly the code path
`onevox daemon` runs, with no subprocess; what only a real process needs on top (logging, signal handlers,
blocking until a shutdown is asked for) is `run_daemon` in daemon/run.py.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from onevox.asr.privacy import privacy_line
from onevox.clock import SYSTEM_CLOCK, Clock
from onevox.config import Config
from onevox.daemon.commands import CommandTable
from onevox.daemon.controller import Controller
from onevox.daemon.diagnostics import Diagnostics, ReloadReport
from onevox.daemon.events import EventBus
from onevox.daemon.options import PipelineOptions, live_typing
from onevox.daemon.reload import ConfigWatcher
from onevox.daemon.reloader import Reloader
from onevox.daemon.stages import MissingModel, StageFactory, Stages
from onevox.daemon.state import AudioEvent, State
from onevox.errors import ModelError, OnevoxError

if TYPE_CHECKING:
    from onevox.asr.base import SpeechRecognizer
    from onevox.audio.base import AudioSource
    from onevox.feedback.runner import FeedbackRunner
    from onevox.history import History
    from onevox.hotkey.base import HotkeyListener
    from onevox.ipc.server import IpcServer
    from onevox.vocabulary import LearnedVocabulary

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 15.0  # on stop, how long a dictation in flight may take to be typed before it is dropped


class Daemon:
    """The daemon's stages, controller, IPC server and hotkey listener. The factory builds the stages from the
    config; one given stages (a FileAudioSource for benchmarks, doubles for tests) uses those instead."""

    def __init__(self, config: Config, *, factory: StageFactory | None = None, ipc: bool = True,
                 hotkey: bool = True, options: PipelineOptions | None = None, config_path: Path | None = None,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self.config = config
        self.config_path = config_path  # watched and reloaded (SIGHUP, mtime) when set
        self.factory = factory or StageFactory()
        self.metrics = self.factory.metrics
        self.bus = EventBus()
        self.clock = clock
        self.diagnostics = Diagnostics(self.bus, clock)
        self.diagnostics.feedback = lambda: self.feedback
        self._want_ipc = ipc
        self._want_hotkey = hotkey
        self._options = options
        self._controller: Controller | None = None
        self._commands: CommandTable | None = None
        self._reloader: Reloader | None = None
        self._ipc: IpcServer | None = None
        self._hotkey: HotkeyListener | None = None
        self._watcher: ConfigWatcher | None = None
        self._feedback: FeedbackRunner | None = None
        self._feedback_lock = threading.Lock()
        self._told_no_indicator = False
        self._started = False
        self._shutdown_early = False

    @property
    def controller(self) -> Controller:
        if self._controller is None:
            raise RuntimeError("Daemon.start() has not been called")
        return self._controller

    @property
    def commands(self) -> CommandTable:
        if self._commands is None:
            raise RuntimeError("Daemon.start() has not been called")
        return self._commands

    @property
    def feedback(self) -> tuple[str, ...]:
        """The feedback parts running now (e.g. "sounds", "indicator-x11"): not one that could not open its
        display or whose display went away."""
        with self._feedback_lock:
            parts = self._feedback.parts if self._feedback is not None else []
        return tuple(part.name for part in parts if part.running)

    def start(self) -> None:
        """Load and warm the model, open the audio, start the workers, the IPC server and the hotkey."""
        if self._started:
            raise RuntimeError("Daemon.start() called twice")
        self._started = True
        try:
            with self.metrics.span("daemon_start"):
                self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        config, factory = self.config, self.factory
        recognizer, model_problem = self._load_model(config)
        source = factory.source(config, self._on_audio_event)
        history = self._open_history(config)
        stages = Stages(source=source, segmenter=factory.segmenter(config), recognizer=recognizer,
                        injector=factory.injector(config), history=history, metrics=self.metrics,
                        vocabulary=self._open_vocabulary(config, history), editor=factory.editor(config))
        controller = Controller(config, stages, self.bus, self._options, clock=self.clock,
                                diagnostics=self.diagnostics)
        self._controller = controller
        if model_problem:
            controller.set_fault("model", model_problem)
        self._commands = CommandTable(controller, self.diagnostics)
        controller.open()
        self._start_source(stages.source)
        self._start_feedback(config)
        if self._want_ipc:
            from onevox.ipc.server import IpcServer

            self._ipc = IpcServer(config.socket_path(), self._commands.dispatch, self.bus.subscribe)
            self._ipc.start()
        if self._want_hotkey:
            self._start_hotkey(config)
        if self.config_path is not None:
            self._start_reloading(self.config_path)
        controller.mark_ready()
        if self._shutdown_early:
            controller.shutdown()
        if config.injection.live and not live_typing(config, self.diagnostics.hotkey_backend):
            log.warning("injection.live is on, but with a push-to-talk key words are typed only at release "
                        "(with this hotkey backend a held key owns the keyboard): set hotkey.mode = "
                        "\"toggle\" to see them as you speak")
        if (privacy := privacy_line(config.model)) is not None:
            log.warning(privacy)
        log.info("onevox ready: model %s, audio %s, injection %s, hotkey %s", recognizer.model_name,
                 stages.source.device_name, stages.injector.name, self.diagnostics.hotkey_backend)

    def request_shutdown(self) -> None:
        """Ask wait() to return (from a signal handler or any thread); before start() ends, it takes effect
        as soon as the controller exists."""
        self._shutdown_early = True
        if self._controller is not None:
            self._controller.shutdown()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a shutdown is requested; False when `timeout` passed first."""
        return self.controller.wait_for_shutdown(timeout)

    def reload(self) -> dict[str, object]:
        """Read the config file again and apply what changed (SIGHUP, the file's mtime, IPC/CLI reload)."""
        if self._reloader is None:
            raise RuntimeError("this daemon was started without a config file")
        return self._reloaded().fields()

    def request_reload(self) -> None:
        """From a signal handler: only wakes the watcher thread, which does the work."""
        if self._watcher is not None:
            self._watcher.kick()
        else:
            log.info("SIGHUP ignored: this daemon was started without a config file to watch")

    def stop(self) -> None:
        """Stop everything in reverse order of start; safe to call twice and after a failed start."""
        steps = (("config watcher", self._stop_watcher), ("hotkey", self._stop_hotkey),
                 ("dictations", self._drain), ("ipc", self._stop_ipc), ("feedback", self._stop_feedback),
                 ("controller", self._stop_controller),
                 ("injection", self._close_injector), ("audio", self._close_source),
                 ("history", self._close_history), ("events", self.bus.close), ("trace", self._export_trace))
        for name, action in steps:
            try:
                action()
            except Exception:
                log.exception("stopping the %s failed", name)

    def __enter__(self) -> Daemon:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- parts --------------------------------------------------------------------------------------------

    def _load_model(self, config: Config) -> tuple[SpeechRecognizer, str]:
        try:
            return self.factory.recognizer(config), ""
        except ModelError as exc:  # stay up: status says what is wrong, a reload retries
            log.error("no speech model: %s", exc)
            return MissingModel(config.model.name, str(exc)), str(exc)

    def _open_history(self, config: Config) -> History | None:
        try:
            history = self.factory.history(config)
        except OnevoxError as exc:  # dictation still works; the text just is not kept
            log.warning("history is off for this run: %s", exc)
            self.diagnostics.error("history", str(exc))
            return None
        if history is not None:
            interrupted = history.resolve_interrupted()
            if interrupted:
                log.warning("%d dictation(s) were not injected before the daemon stopped; they are in the "
                            "history as interrupted (`onevox history list`)", interrupted)
        return history

    def _open_vocabulary(self, config: Config, history: History | None) -> LearnedVocabulary | None:
        if config.history.enabled and history is None:  # its folder failed: the history's error says why
            return None
        try:
            return self.factory.vocabulary(config)
        except OnevoxError as exc:  # dictation still works; nothing learned is applied
            log.warning("learned vocabulary is off for this run: %s", exc)
            self.diagnostics.error("vocabulary", str(exc))
            return None

    def _start_source(self, source: AudioSource) -> None:
        try:
            source.start()
        except OnevoxError as exc:  # IPC and status still work; dictation commands say why they cannot run
            log.warning("audio input not available yet: %s", exc)
            self._on_audio_event(AudioEvent.LOST, str(exc))

    def _on_audio_event(self, kind: str, message: str) -> None:
        if self._controller is not None:
            self._controller.on_audio_event(kind, message)
        else:  # the source spoke before the controller existed: status still hears of it
            self.diagnostics.audio(kind, message)

    def _start_reloading(self, path: Path) -> None:
        self._reloader = Reloader(path, self.config, self.factory, self.controller, self._restart_hotkey,
                                  self._restart_feedback)
        self.commands.set_reload(self._reloaded)
        self._watcher = ConfigWatcher(path, self._reloaded_quietly)
        self._watcher.start()

    def _reloaded(self) -> ReloadReport:
        assert self._reloader is not None
        report = self._reloader.reload()
        self.config = self._reloader.config
        return report

    def _reloaded_quietly(self) -> None:
        self._reloaded()

    def _stop_watcher(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def _start_hotkey(self, config: Config) -> None:
        from onevox.hotkey import create_listener

        try:
            listener = create_listener(config.hotkey, self.commands.on_hotkey, self._hotkey_problem)
            if listener is None:
                log.info("no global hotkey (backend %s or no display): use `onevox toggle` over IPC",
                         config.hotkey.backend)
                return
            # before start(): a listener that fails later (the portal's bind) reports through
            # _hotkey_problem, which must have the last word
            self.diagnostics.hotkey_backend = listener.backend
            listener.start()
        except OnevoxError as exc:
            self.diagnostics.hotkey_backend = "none"
            log.warning("global hotkey unavailable (%s); `onevox toggle` still works over IPC", exc)
            self.diagnostics.error("hotkey", f"{exc}; use `onevox toggle` instead")
            return
        self._hotkey = listener
        self._follow_hotkey_backend(config)
        # IPC, max duration or an error may start/stop a dictation: a toggle gesture's next press must still
        # mean "start" when idle and "stop" when recording
        self.controller.add_state_listener(self._sync_hotkey)

    def _follow_hotkey_backend(self, config: Config) -> None:
        """Live typing with a held push-to-talk key depends on the backend that runs (`live_typing`)."""
        pipeline = self.controller.pipeline
        live = live_typing(config, self.diagnostics.hotkey_backend)
        if pipeline.options.live != live:
            pipeline.set_options(dataclasses.replace(pipeline.options, live=live))

    def _hotkey_problem(self, problem: str) -> None:
        """The listener stopped working after it started (the portal's bind cancelled or refused, the bus
        gone): status says so; IPC control goes on."""
        self.diagnostics.hotkey_backend = "none"
        self.diagnostics.error("hotkey", f"{problem}; `onevox toggle` still works")

    def _sync_hotkey(self, state: State) -> None:
        if self._hotkey is not None:
            self._hotkey.sync(state is State.RECORDING)

    def _restart_hotkey(self, config: Config) -> None:
        """Rebind the hotkey to `config` (a reload): the old listener stops, a new one starts."""
        if self._want_hotkey:
            self._stop_hotkey()
            self._start_hotkey(config)

    def _stop_hotkey(self) -> None:
        if self._controller is not None:
            self._controller.remove_state_listener(self._sync_hotkey)
        if self._hotkey is not None:
            self._hotkey.stop()
            self._hotkey = None
        self.diagnostics.hotkey_backend = "none"

    def _start_feedback(self, config: Config) -> None:
        """The start/stop sounds and the recording indicator, fed from the event bus on their own threads."""
        from onevox.feedback import indicator_unavailable
        from onevox.feedback.runner import FeedbackRunner

        parts = self.factory.feedback(config)
        shown = any(part.name.startswith("indicator") for part in parts)
        if not shown and config.feedback.indicator != "off" and not self._told_no_indicator:
            self._told_no_indicator = True  # once: a reload does not say it again
            log.info("no recording indicator: %s", indicator_unavailable(config.feedback))
        if not parts:
            return
        runner = FeedbackRunner(self.bus.subscribe, parts)
        runner.start()
        with self._feedback_lock:
            self._feedback = runner
        log.info("feedback: %s", ", ".join(part.name for part in parts))

    def _restart_feedback(self, config: Config) -> None:
        """Turn the sounds and the indicator on, off or to new settings (a reload)."""
        self._stop_feedback()
        self._start_feedback(config)

    def _stop_feedback(self) -> None:
        with self._feedback_lock:
            runner, self._feedback = self._feedback, None
        if runner is not None:
            runner.stop()

    def _stop_ipc(self) -> None:
        if self._ipc is not None:
            self._ipc.stop()
            self._ipc = None

    def _drain(self) -> None:
        if self._controller is not None:
            self._controller.drain(DRAIN_TIMEOUT_S)

    def _stop_controller(self) -> None:
        if self._controller is not None:
            self._controller.close()

    def _close_injector(self) -> None:
        """Close the injector this daemon built (one passed in belongs to the caller)."""
        if self._controller is not None and self.factory.owns_injector():
            self._controller.stages.injector.close()
            if self._controller.stages.editor is not None:
                self._controller.stages.editor.close()

    def _close_source(self) -> None:
        if self._controller is not None:
            self._controller.stages.source.close()

    def _close_history(self) -> None:
        if self._controller is not None and self._controller.stages.history is not None:
            self._controller.stages.history.close()
        if self._controller is not None and self._controller.stages.vocabulary is not None:
            self._controller.stages.vocabulary.close()

    def _export_trace(self) -> None:
        if self.config.daemon.trace_path:
            path = self.metrics.export_chrome_trace(self.config.daemon.trace_path)
            log.info("trace written to %s", path)
