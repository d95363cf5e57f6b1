"""Builds every stage from the config, wires them to the controller and runs the daemon.

`Daemon` is the whole daemon in-process (start()/stop()), so tests and benchmarks drive exactly the code path
`onevox daemon` runs, with no subprocess; `run_daemon` is what the CLI calls: start, ready(), block until a
shutdown is asked for (IPC `shutdown`, SIGTERM, SIGINT), stop everything in reverse order.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onevox.asr.base import Transcript
from onevox.config import Config
from onevox.daemon.controller import Controller
from onevox.daemon.dictation import PipelineOptions, Stages
from onevox.daemon.events import EventBus
from onevox.errors import ModelError, OnevoxError
from onevox.history import History
from onevox.metrics import Metrics

if TYPE_CHECKING:
    from onevox.asr.base import SpeechRecognizer
    from onevox.audio.base import AudioSource
    from onevox.inject.base import Injector

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 15.0  # on stop, how long a dictation in flight may take to be typed before it is dropped


class Daemon:
    """The daemon's stages, controller, IPC server and hotkey listener. Stages passed in replace the ones the
    config would build (a FileAudioSource for benchmarks, a stdout injector for tests)."""

    def __init__(self, config: Config, *, source: AudioSource | None = None, injector: Injector | None = None,
                 recognizer: SpeechRecognizer | None = None, ipc: bool = True, hotkey: bool = True,
                 options: PipelineOptions | None = None, config_path: Path | None = None) -> None:
        self.config = config
        self.config_path = config_path  # watched and reloaded (SIGHUP, mtime) when set
        self._given: dict[str, Any] = {"source": source, "injector": injector, "recognizer": recognizer}
        self._want_ipc = ipc
        self._want_hotkey = hotkey
        self._options = options
        self.metrics = Metrics()
        self.bus = EventBus()
        self._controller: Controller | None = None
        self._ipc: Any = None
        self._hotkey: Any = None
        self._source: Any = None
        self._history: History | None = None
        self._started = False
        self._shutdown_early = False
        self._problems: list[tuple[str, str]] = []  # found before the controller existed
        self._watcher: Any = None
        self._hotkey_sync: Callable[[str], None] | None = None

    @property
    def controller(self) -> Controller:
        if self._controller is None:
            raise RuntimeError("Daemon.start() has not been called")
        return self._controller

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
        config = self.config
        recognizer, model_problem = self._given["recognizer"], ""
        if recognizer is None:
            try:
                recognizer = _load_recognizer(config, self.metrics)
            except ModelError as exc:  # stay up: status says what is wrong, a reload retries
                log.error("no speech model: %s", exc)
                recognizer, model_problem = MissingModel(config.model.name, str(exc)), str(exc)
        segmenter = _build_segmenter(config)
        self._source = self._given["source"] or _build_capture(config, self.on_audio_event)
        injector = self._given["injector"] or _build_injector(config)
        self._history = self._open_history()
        stages = Stages(source=self._source, segmenter=segmenter, recognizer=recognizer, injector=injector,
                        history=self._history, metrics=self.metrics)
        self._controller = Controller(config, stages, self.bus, self._options)
        for stage, message in self._problems:
            self._controller.note_problem(stage, message)
        if model_problem:
            self._controller.set_fault("model", model_problem)
        self._controller.open()
        self._start_source()
        if self._want_ipc:
            from onevox.ipc.server import IpcServer

            self._ipc = IpcServer(config.socket_path(), self._controller.dispatch, self.bus.subscribe)
            self._ipc.start()
        if self._want_hotkey:
            self._start_hotkey()
        if self.config_path is not None:
            self._start_watcher(self.config_path)
        self._controller.mark_ready()
        if self._shutdown_early:
            self._controller.shutdown()
        log.info("onevox ready: model %s, audio %s, injection %s, hotkey %s", stages.recognizer.model_name,
                 getattr(self._source, "device_name", "?"), injector.name, self._controller.hotkey_backend)

    def request_shutdown(self) -> None:
        """Ask wait() to return (from a signal handler or any thread); before start() ends, it takes effect
        as soon as the controller exists."""
        self._shutdown_early = True
        if self._controller is not None:
            self._controller.shutdown()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a shutdown is requested; False when `timeout` passed first."""
        return self.controller.wait_for_shutdown(timeout)

    def stop(self) -> None:
        """Stop everything in reverse order of start; safe to call twice and after a failed start."""
        steps = (("config watcher", self._stop_watcher), ("hotkey", self._stop_hotkey),
                 ("dictations", self._drain), ("ipc", self._stop_ipc), ("controller", self._stop_controller),
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

    def _open_history(self) -> History | None:
        if not self.config.history.enabled:
            return None
        try:
            return History(self.config.history_path(), self.config.history.max_entries)
        except OnevoxError as exc:  # dictation still works; the text just is not kept
            log.warning("history is off for this run: %s", exc)
            self._problems.append(("history", str(exc)))
            return None

    def _start_source(self) -> None:
        try:
            self._source.start()
        except OnevoxError as exc:  # IPC and status still work; each dictation reports the device error
            log.warning("audio input not available yet: %s", exc)
            self.controller.on_audio_event("device_lost", str(exc))

    def reload(self) -> dict[str, Any]:
        """Read the config file again and apply what changed (SIGHUP, the file's mtime, IPC/CLI reload)."""
        from onevox.daemon.apply import reload_config

        return reload_config(self)

    def given(self, stage: str) -> Any:
        """The stage object passed to the constructor ("source", "injector", "recognizer"), or None."""
        return self._given[stage]

    def replace_source(self, source: AudioSource) -> None:
        self._source = source

    def restart_hotkey(self, config: Config) -> None:
        """Rebind the hotkey to `config` (a reload): the old listener stops, a new one starts."""
        if not self._want_hotkey:
            return
        self._stop_hotkey()
        self._start_hotkey(config)

    def request_reload(self) -> None:
        """From a signal handler: only wakes the watcher thread, which does the work."""
        if self._watcher is not None:
            self._watcher.kick()
        else:
            log.info("SIGHUP ignored: this daemon was started without a config file to watch")

    def _start_watcher(self, path: Path) -> None:
        from onevox.daemon.reload import ConfigWatcher

        self._watcher = ConfigWatcher(path, self.reload)
        self._watcher.start()
        self.controller.reload_handler = self.reload

    def _stop_watcher(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def _start_hotkey(self, config: Config | None = None) -> None:
        from onevox.hotkey import create_listener

        cfg = (config or self.config).hotkey
        try:
            listener = create_listener(cfg, self.controller.on_hotkey_command)
            if listener is None:
                log.info("no global hotkey (backend %s or no display): use `onevox toggle` over IPC",
                         cfg.backend)
                return
            listener.start()
        except OnevoxError as exc:
            log.warning("global hotkey unavailable (%s); `onevox toggle` still works over IPC", exc)
            self.controller.note_problem("hotkey", f"{exc}; use `onevox toggle` instead")
            return
        self._hotkey = listener
        self.controller.hotkey_backend = listener.backend
        gesture = getattr(listener, "gesture", None)
        if gesture is not None and gesture.mode == "toggle":
            # IPC, max duration or an error may start/stop a dictation: the next press must still mean
            # "start" when idle and "stop" when recording
            follow = getattr(listener, "sync", gesture.sync)  # X11 also updates its cancel-key grab

            def sync(state: str) -> None:
                follow(state == "recording")

            self._hotkey_sync = sync
            self.controller.state_listeners.append(sync)

    def on_audio_event(self, kind: str, message: str) -> None:
        if self._controller is not None:
            self._controller.on_audio_event(kind, message)
        else:
            log.warning("audio %s: %s", kind, message)

    def _stop_hotkey(self) -> None:
        if self._hotkey_sync is not None:
            self.controller.state_listeners.remove(self._hotkey_sync)
            self._hotkey_sync = None
        if self._hotkey is not None:
            self._hotkey.stop()
            self._hotkey = None
        if self._controller is not None:
            self._controller.hotkey_backend = "none"

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
        if self._controller is None or self._given["injector"] is not None:
            return
        close = getattr(self._controller.stages.injector, "close", None)
        if close is not None:
            close()

    def _close_source(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None

    def _close_history(self) -> None:
        if self._history is not None:
            self._history.close()
            self._history = None

    def _export_trace(self) -> None:
        if self.config.daemon.trace_path:
            path = self.metrics.export_chrome_trace(self.config.daemon.trace_path)
            log.info("trace written to %s", path)


class MissingModel:
    """Stands in for the recognizer while the model cannot be loaded: the controller refuses dictations
    (state "error"), and should a decode ever reach it, it fails with the same actionable message."""

    def __init__(self, name: str, message: str) -> None:
        self.model_name = name
        self.message = message

    def transcribe(self, audio: Any, prompt: str = "") -> Transcript:
        raise ModelError(self.message)

    def warm_up(self) -> None:
        raise ModelError(self.message)


def run_daemon(config: Config, *, foreground: bool = True, ready: Callable[[], None] | None = None,
               source: AudioSource | None = None, injector: Injector | None = None,
               config_path: Path | None = None) -> None:
    """Run the daemon until it is asked to stop. `ready()` is called once the model is warm and the socket
    answers. Detaching (when not `foreground`) and the single-instance lock are the CLI's job
    (daemon/lifecycle.py); SIGTERM and SIGINT stop the daemon cleanly when this runs on the main thread."""
    _setup_logging(config.daemon.log_level, foreground)
    daemon = Daemon(config, source=source, injector=injector, config_path=config_path)
    restore = _install_signal_handlers(daemon)
    try:
        daemon.start()
        if ready is not None:
            ready()
        while not daemon.wait(1.0):  # wake now and then so signal handlers run promptly
            pass
        log.info("shutting down")
    finally:
        daemon.stop()
        restore()


def _load_recognizer(config: Config, metrics: Metrics) -> SpeechRecognizer:
    from onevox.asr.whisper import load_recognizer

    with metrics.span("model_load", model=config.model.name):
        recognizer = load_recognizer(config.model)
    with metrics.span("warm_up"):
        recognizer.warm_up()
    return recognizer


def _build_segmenter(config: Config) -> Any:
    from onevox.vad import create_detector
    from onevox.vad.segmenter import SpeechSegmenter

    return SpeechSegmenter(create_detector(config.vad), config.vad)


def _build_capture(config: Config, on_event: Callable[[str, str], None]) -> AudioSource:
    from onevox.audio.capture import AudioCapture

    return AudioCapture(config.audio, on_event=on_event)


def _build_injector(config: Config) -> Injector:
    from onevox.inject import create_injector

    return create_injector(config.injection)


def _setup_logging(level: str, foreground: bool) -> None:
    root = logging.getLogger()
    if not root.handlers:  # the CLI may have configured logging already (e.g. to a log file)
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
        if foreground:
            fmt = "%(levelname)s: %(message)s"
        logging.basicConfig(level=level.upper(), format=fmt)
    logging.getLogger("onevox").setLevel(level.upper())


def _install_signal_handlers(daemon: Daemon) -> Callable[[], None]:
    """SIGTERM/SIGINT -> a clean shutdown (lifecycle's handlers: a second signal exits at once); returns a
    function that puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    from onevox.daemon.lifecycle import install_signal_handlers

    signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    previous = {sig: signal.getsignal(sig) for sig in signals}
    install_signal_handlers(daemon.request_shutdown, daemon.request_reload)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
