"""The delivery worker's jobs: post-process, write history before injecting, inject, mark the entry; and in
live mode, type the words settled while the user is still speaking. A dictation that cannot be injected is
still in the history, and the report says how to get it back."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from onevox.asr.memory import release_free_memory
from onevox.clock import Clock
from onevox.config import CommandsConfig, InjectionConfig, PostProcessingConfig
from onevox.daemon.live import live_rest
from onevox.daemon.recording import save_recording
from onevox.daemon.stages import Stages
from onevox.daemon.state import Outcome
from onevox.errors import OnevoxError
from onevox.history import HistoryEntry
from onevox.inject.edits import EditRefused
from onevox.text.edit_commands import EditCommand, match_command
from onevox.text.postprocess import join_segments, postprocess

if TYPE_CHECKING:
    from onevox.daemon.options import PipelineListener, PipelineOptions
    from onevox.daemon.record import Dictation
    from onevox.inject.base import Injector

log = logging.getLogger(__name__)

Record = Callable[["Dictation", str, float], None]
Report = Callable[..., None]


class Delivery:
    """Runs on the delivery worker only."""

    def __init__(self, stages: Stages, listener: PipelineListener, clock: Clock, record: Record,
                 report: Report) -> None:
        self.stages = stages
        self.listener = listener
        self.clock = clock
        self._record = record
        self._report = report
        # the injectors of profiles with their own [injection] settings, by profile, built on first use
        self._profile_injectors: dict[str, tuple[InjectionConfig, Injector]] = {}
        self.edit_commands = False  # as the last final() was told: live pieces follow the same rule

    def final(self, d: Dictation, text_cfg: PostProcessingConfig, options: PipelineOptions,
              commands: CommandsConfig | None = None) -> None:
        """Everything is decoded: post-process, write history, inject, mark the history entry."""
        if d.config is not None:  # a profile's settings
            text_cfg, commands = d.config.post_processing, d.config.commands
        start = self.clock.perf_ns()
        d.raw_text = join_segments(d.texts)
        d.text = postprocess(d.raw_text, self._learned(text_cfg), d.language, commands)
        self._record(d, "postprocess", (self.clock.perf_ns() - start) / 1e6)
        if options.save_recordings:
            self._save_recording(d, options.recordings_dir)
        if options.save_failed and (failed := [e for e in d.errors if e.startswith("inference: ")]):
            self._decode_failed(d, failed[0], options)
            return
        if not d.text.strip():
            d.outcome = Outcome.EMPTY
            self.listener.on_transcribed(d)
            self.listener.on_done(d)
            return
        # a profile may turn edit commands off in its windows (a code editor, a terminal)
        self.edit_commands = d.config.commands.edit if d.config is not None else options.edit_commands
        command = match_command(d.raw_text) if self.edit_commands and not d.live_text else None
        if command is not None:
            self._command(d, command)
            return
        self.listener.on_transcribed(d)
        self._add_history(d)
        if not d.enabled:
            d.outcome = Outcome.DISABLED
            self._mark_history(d, "not_injected", f"profile {d.profile} turns dictation off in that window")
            self.listener.on_done(d)
            return
        if not d.begin_injection():
            d.outcome = Outcome.CANCELLED
            self._mark_history(d, "not_injected", "cancelled before injection")
            return
        self._inject(d)
        self.listener.on_done(d)
        release_free_memory()  # after the text is out: gives decoding's scratch memory back (1-4 ms)

    def live(self, d: Dictation, raw: str, text_cfg: PostProcessingConfig,
             commands: CommandsConfig | None = None) -> None:
        """Live mode: the words settled so far go into the window while the user is still speaking."""
        if d.cancelled or d.injecting or not d.enabled:
            return
        if d.config is not None:
            text_cfg, commands = d.config.post_processing, d.config.commands
        text = postprocess(raw, self._learned(text_cfg), d.language, commands)
        delta = live_rest(d.live_text, text.rstrip())
        if not delta.strip():
            return
        try:
            with self.stages.metrics.span("injection", dictation=d.id, chars=len(delta), live=True), \
                    self._own_keys():
                self.injector_for(d).inject(delta)
        except Exception as exc:  # the final delivery types everything that is missing
            self._report(d, "injection", exc, fatal=False)
            return
        d.live_text += delta
        self._typed(d, delta)

    def _command(self, d: Dictation, command: EditCommand) -> None:
        """An edit command instead of text: carry it out (or refuse), record it like a dictation."""
        d.command = command.value
        self.listener.on_transcribed(d)
        self._add_history(d)
        if not d.begin_injection():
            d.outcome = Outcome.CANCELLED
            self._mark_history(d, "not_injected", "cancelled before injection")
            return
        editor = self.stages.editor
        start = self.clock.perf_ns()
        try:
            if editor is None:
                raise EditRefused("edit commands are not available in this daemon (its injector was given)")
            d.method = editor.method
            done = editor.scratch() if command is EditCommand.SCRATCH else editor.press(command.value)
        except EditRefused as exc:
            d.outcome, d.command_result = Outcome.REFUSED, str(exc)
            log.warning("%r refused: %s", d.text.strip(), exc)
            self._mark_history(d, "not_injected", str(exc))
        except OnevoxError as exc:  # the keys could not be sent
            d.outcome, d.command_result = Outcome.REFUSED, f"the keys could not be sent: {exc}"
            self._mark_history(d, "failed", d.command_result)
            self._report(d, "injection", exc, fatal=False)
        else:
            d.outcome, d.command_result = Outcome.COMMAND, done
            log.info("%r: %s", d.text.strip(), done)
            self._record(d, "injection", (self.clock.perf_ns() - start) / 1e6)
            self._mark_history(d, "injected", "")
        self.listener.on_done(d)

    def _own_keys(self) -> AbstractContextManager[None]:
        """Around every injection: the edit commands' watch must not take onevox's keys for the user's."""
        editor = self.stages.editor
        return editor.own_input() if editor is not None and self.edit_commands else nullcontext()

    def _typed(self, d: Dictation, text: str) -> None:
        if self.stages.editor is None or not self.edit_commands:
            return
        if any(error.startswith("injection:") for error in d.errors):  # a live piece failed part-way
            self.stages.editor.forget("a part of the last dictation was not delivered")
            return
        self.stages.editor.typed(d.id, text)

    def _forget(self, why: str) -> None:
        if self.stages.editor is not None:
            self.stages.editor.forget(why)

    def _decode_failed(self, d: Dictation, error: str, options: PipelineOptions) -> None:
        """A decode failed and nothing stood in for it: nothing is typed (text with a hole in it would be
        worse), the audio is written to disk and the history entry says where, with what was decoded."""
        if not options.save_recordings:
            self._save_recording(d, options.recordings_dir)
        kept = (f"; the audio is saved: onevox transcribe {d.recording_path}" if d.recording_path
                else "; the audio could not be saved")
        message = f"{error.removeprefix('inference: ')}{kept}"
        d.outcome = Outcome.FAILED
        self._add_history(d)
        self._mark_history(d, "failed", message)
        self._report(d, "inference", OnevoxError(message), fatal=True)

    def _learned(self, text_cfg: PostProcessingConfig) -> PostProcessingConfig:
        vocabulary = self.stages.vocabulary
        return text_cfg if vocabulary is None else vocabulary.text_config(text_cfg)

    def _add_history(self, d: Dictation) -> None:
        history = self.stages.history
        if history is None:
            return
        start = self.clock.perf_ns()
        model = " + ".join(d.models) or self.stages.recognizer.model_name  # a fallback's model shows
        entry = HistoryEntry(text=d.text, raw_text=d.raw_text, audio_s=round(d.audio_s, 3), model=model,
                             timings=dict(d.timings),
                             language=d.language, language_prob=_rounded(d.language_prob),
                             command=d.command)
        try:
            d.history_id = history.add(entry)
        except OnevoxError as exc:  # the text is still injected: losing history must not lose the words
            self._report(d, "history", exc, fatal=False)
        self._record(d, "history", (self.clock.perf_ns() - start) / 1e6)

    def injector_for(self, d: Dictation) -> Injector:
        """The daemon's injector, or the one of the dictation's profile (rebuilt when its settings change)."""
        if d.injection is None:
            return self.stages.injector
        cached = self._profile_injectors.get(d.profile)
        if cached is not None and cached[0] == d.injection:
            return cached[1]
        if cached is not None:
            cached[1].close()
        injector = (self.stages.make_injector or _create_injector)(d.injection)
        self._profile_injectors[d.profile] = (d.injection, injector)
        return injector

    def close(self) -> None:
        """Close the profiles' injectors (the daemon's own is closed by its owner)."""
        for _cfg, injector in self._profile_injectors.values():
            injector.close()
        self._profile_injectors.clear()

    def _inject(self, d: Dictation) -> None:
        start = self.clock.perf_ns()
        try:
            injector = self.injector_for(d)
        except OnevoxError as exc:  # a profile's paste keys that cannot be parsed
            d.outcome = Outcome.FAILED
            self._mark_history(d, "failed", str(exc))
            self._report(d, "injection", exc, fatal=True)
            return
        text = live_rest(d.live_text, d.text) if d.live_text else d.text
        try:
            with self.stages.metrics.span("injection", dictation=d.id, chars=len(text)), self._own_keys():
                if text:
                    injector.inject(text)
        except Exception as exc:
            self._forget(f"the last dictation was not delivered ({exc})")
            if not isinstance(exc, OnevoxError):
                log.exception("injector %s failed unexpectedly", injector.name)
            d.outcome = Outcome.FAILED
            self._mark_history(d, "failed", str(exc))
            hint = (f" (the text is saved as history #{d.history_id}: onevox history last --copy)"
                    if d.history_id else "")
            self._report(d, "injection", OnevoxError(f"{exc}{hint}"), fatal=True)
            return
        end = self.clock.perf_ns()
        self._typed(d, text)
        d.method = injector.name
        d.outcome = Outcome.INJECTED
        self._record(d, "injection", (end - start) / 1e6)
        self._record(d, "release_to_text", (end - d.release_ns) / 1e6)
        self._mark_history(d, "injected", "")

    def _mark_history(self, d: Dictation, status: str, error: str) -> None:
        history = self.stages.history
        if history is None or not d.history_id:
            return
        try:
            if status == "injected":
                history.mark_injected(d.history_id, d.method)
            else:
                mark = history.mark_failed if status == "failed" else history.mark_not_injected
                mark(d.history_id, error)
        except OnevoxError as exc:
            self._report(d, "history", exc, fatal=False)

    def _save_recording(self, d: Dictation, folder: Path | None) -> None:
        try:
            path = save_recording(d.chunks, folder, d.created_at, d.id)
            d.recording_path = str(path)
        except (OSError, RuntimeError) as exc:
            self._report(d, "recording", exc, fatal=False)
        d.chunks = []


def _create_injector(cfg: InjectionConfig) -> Injector:
    from onevox.inject import create_injector

    return create_injector(cfg)


def _rounded(probability: float | None) -> float | None:
    return None if probability is None else round(probability, 3)
