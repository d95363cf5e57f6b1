"""The daemon's command table: every IPC command the daemon answers, and the hotkey's commands, mapped to
what runs them. The names come from the protocol (ipc/protocol.py), the one list the server and the clients
use too; building the table fails if a protocol command has no handler here."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from onevox.asr.base import RemoteRecognizer
from onevox.daemon.controller import Controller
from onevox.daemon.diagnostics import Diagnostics, ReloadReport
from onevox.daemon.state import State
from onevox.daemon.toggle_repeats import ToggleActions, ToggleRepeats
from onevox.errors import IpcError, OnevoxError
from onevox.ipc.protocol import BAD_REQUEST, DAEMON_COMMANDS, UNAVAILABLE, UNKNOWN_COMMAND, Command
from onevox.ipc.server import requester_pid

log = logging.getLogger(__name__)

Handler = Callable[[], dict[str, Any]]
ArgsHandler = Callable[[dict[str, Any]], dict[str, Any]]  # a command that takes arguments
# what the hotkey listener sends (hotkey/base.py) -> the protocol command it means
HOTKEY_COMMANDS: Mapping[str, Command] = {"start": Command.START_DICTATION, "stop": Command.STOP_DICTATION,
                                          "toggle": Command.TOGGLE, "cancel": Command.CANCEL}


class CommandTable:
    """`dispatch(cmd, args)` for the IPC server and `on_hotkey(command)` for the hotkey listener."""

    def __init__(self, controller: Controller, diagnostics: Diagnostics,
                 reload: Callable[[], ReloadReport] | None = None) -> None:
        self.controller = controller
        self.diagnostics = diagnostics
        self._reload = reload
        # a desktop shortcut may run `onevox toggle` on every key repeat; the hotkey's own toggle does not
        self.toggles = ToggleRepeats(
            ToggleActions(start=controller.start, stop=controller.stop, status=self.status,
                          recording=lambda: controller.state is State.RECORDING),
            lambda: controller.config.hotkey.toggle_repeat_ms / 1000)
        self._handlers: dict[Command, Handler] = {
            Command.STATUS: self.status, Command.TOGGLE: lambda: self.toggles.toggle(requester_pid()),
            Command.START_DICTATION: controller.start, Command.STOP_DICTATION: controller.stop,
            Command.CANCEL: controller.cancel, Command.SHUTDOWN: controller.shutdown,
            Command.RELOAD: self.reload,
        }
        self._args_handlers: dict[Command, ArgsHandler] = {Command.CORRECT: self.correct}
        missing = DAEMON_COMMANDS - set(self._handlers) - set(self._args_handlers)
        if missing:
            raise RuntimeError(f"no handler for {sorted(missing)}")

    def dispatch(self, cmd: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """The IPC entry point: one command name and its arguments -> a result dict."""
        try:
            command = Command(cmd)
        except ValueError:
            command = None
        if command is not None and command in self._args_handlers:
            return self._args_handlers[command](args or {})
        if command is None or command not in self._handlers:
            known = ", ".join(sorted([*self._handlers, *self._args_handlers]))
            raise IpcError(f"unknown command {cmd!r}; known: {known}", code=UNKNOWN_COMMAND)
        return self._handlers[command]()

    def on_hotkey(self, command: str) -> None:
        """From the hotkey listener's thread: 'start', 'stop', 'toggle' or 'cancel'."""
        cmd = HOTKEY_COMMANDS.get(command)
        if cmd is None:
            log.warning("ignoring unknown hotkey command %r", command)
            return
        try:
            self.controller.toggle() if cmd is Command.TOGGLE else self._handlers[cmd]()
        except OnevoxError as exc:  # e.g. no model: status and the error event already say so
            log.warning("hotkey %s refused: %s", command, exc)

    def set_reload(self, reload: Callable[[], ReloadReport] | None) -> None:
        self._reload = reload

    def reload(self) -> dict[str, Any]:
        if self._reload is None:
            raise IpcError("this daemon was started without a config file to reload", code=UNAVAILABLE)
        return self._reload().fields()

    def correct(self, args: dict[str, Any]) -> dict[str, Any]:
        """`{"entry": N, "text": "..."}`: history entry N should have read `text`; learn from it."""
        entry, text = args.get("entry"), args.get("text")
        if not isinstance(entry, int) or isinstance(entry, bool) or not isinstance(text, str):
            raise IpcError("correct needs \"entry\" (a history id) and \"text\" (a string)", code=BAD_REQUEST)
        stages = self.controller.stages
        if stages.history is None or stages.vocabulary is None:
            raise IpcError("this daemon keeps no history ([history] enabled = false, or its file could not "
                           "be opened): there is no dictation to correct", code=UNAVAILABLE)
        return stages.vocabulary.correct(stages.history, entry, text).to_dict()

    def status(self) -> dict[str, Any]:
        """Instant: reads what is already known, never waits on the model, the device or the disk."""
        controller = self.controller
        stages = controller.stages
        return {**controller.snapshot(), **self.diagnostics.fields(),
                "model": stages.recognizer.model_name, "language": controller.pipeline.options.language,
                "device": stages.source.device_name,
                "injector": stages.injector.name, "history": stages.history is not None,
                "latencies": stages.metrics.summary(),
                **({"remote": stages.recognizer.status()} if isinstance(stages.recognizer, RemoteRecognizer)
                   else {})}
