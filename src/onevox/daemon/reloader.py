"""Applying a reloaded config to a running daemon, one section at a time.

Each stage is rebuilt by the StageFactory and swapped through the pipeline's typed methods, on the worker
thread that uses it, so a dictation in flight finishes with the stages it started with and the next one gets
the new ones. The model is loaded on the ASR worker. A stage handed to the factory (tests, benchmarks) is not
rebuilt: its keys are reported as not applied.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from onevox.config import Config, load_config
from onevox.daemon.controller import Controller
from onevox.daemon.diagnostics import ReloadReport
from onevox.daemon.options import PipelineOptions
from onevox.daemon.reload import changed_keys, restart_needed
from onevox.daemon.stages import Stage, StageFactory
from onevox.errors import ConfigError, OnevoxError

log = logging.getLogger(__name__)

# the keys of [audio] that only change pipeline options; the others need the capture reopened
AUDIO_OPTION_KEYS = ("audio.pre_roll_ms", "audio.post_roll_ms", "audio.max_dictation_s",
                     "audio.save_recordings")
# keys that feed PipelineOptions
OPTION_KEYS = (*AUDIO_OPTION_KEYS, "vad.min_speech_ms", "vad.early_decode_ms", "vad.pass_interval_ms",
               "injection.live", "hotkey.mode", "hotkey.backend",
               "post_processing.hallucination_filter", "model.language", "model.backend",
               "model.fallback", "commands.edit")


class Reloader:
    """Reads the config file again and applies what changed; one reload at a time."""

    def __init__(self, path: Path, config: Config, factory: StageFactory, controller: Controller,
                 restart_hotkey: Callable[[Config], None],
                 restart_feedback: Callable[[Config], None] | None = None) -> None:
        self.path = path
        self.config = config  # the config in force
        self.factory = factory
        self.controller = controller
        self.restart_hotkey = restart_hotkey
        self.restart_feedback = restart_feedback
        self._lock = threading.Lock()

    def reload(self) -> ReloadReport:
        """Apply a valid file; reject an invalid one (the config in force is kept)."""
        with self._lock:
            try:
                new = load_config(self.path, must_exist=False)
            except ConfigError as exc:
                log.error("config not reloaded, the old one is kept: %s", exc)
                report = ReloadReport(reloaded=False, message=f"rejected: {exc}", error=str(exc))
                self.controller.diagnostics.reloaded(report)
                return report
            changed = changed_keys(self.config, new)
            retry_model = bool(self.controller.fault) and not self.factory.is_given(Stage.RECOGNIZER)
            not_applied = self._apply(new, changed, retry_model)
            restart = tuple(restart_needed(changed))
            # what runs keeps its old value for a key that needs a restart: the next reload still names it
            self.config = _keep(new, self.config, restart)
            self.controller.set_config(self.config)
            report = ReloadReport(reloaded=True, message=_message(changed, restart + not_applied),
                                  changed=tuple(changed), restart_needed=restart, not_applied=not_applied,
                                  model_reloading=retry_model)
            log.info("config reloaded: %s", report.message)
            self.controller.diagnostics.reloaded(report)
            return report

    def _apply(self, new: Config, changed: list[str], retry_model: bool) -> tuple[str, ...]:
        """Apply every live key; returns the changed keys this daemon cannot apply (their stage was given)."""
        pipeline = self.controller.pipeline
        fixed: list[str] = []

        def touched(prefix: str, *, besides: tuple[str, ...] = ()) -> list[str]:
            return [key for key in changed if key.startswith(prefix) and key not in besides]

        if any(key in OPTION_KEYS for key in changed):
            pipeline.set_options(dataclasses.replace(
                PipelineOptions.from_config(new, self.controller.diagnostics.hotkey_backend),
                recordings_dir=pipeline.options.recordings_dir,
                read_timeout_s=pipeline.options.read_timeout_s))
        if touched("post_processing.") or touched("commands."):
            pipeline.set_text_config(new.post_processing, new.commands)
        if touched("vocabulary.") and self.controller.stages.vocabulary is not None:
            self.controller.stages.vocabulary.set_config(new.vocabulary)
        if touched("vad."):
            self._swap(Stage.SEGMENTER, touched("vad."), fixed, lambda: pipeline.swap_segmenter(
                self.factory.segmenter(new)))
        audio = touched("audio.", besides=AUDIO_OPTION_KEYS)
        if audio:
            self._swap(Stage.SOURCE, audio, fixed, lambda: pipeline.swap_source(
                self.factory.source(new, self.controller.on_audio_event), ", ".join(audio)))
        if touched("injection."):
            self._swap(Stage.INJECTOR, touched("injection."), fixed, lambda: pipeline.swap_injector(
                self.factory.injector(new), close_old=self.factory.owns_injector()))
        model = touched("model.")
        # spoken punctuation primes the model with its words (spoken.py): a model we built is reloaded
        primed = bool(touched("commands.punctuation")) and not self.factory.is_given(Stage.RECOGNIZER)
        if retry_model or model or primed:
            self._swap(Stage.RECOGNIZER, model, fixed,
                       lambda: pipeline.load_model(lambda: self.factory.recognizer(new)))
        if touched("hotkey."):
            self.restart_hotkey(new)
        if touched("feedback.") and self.restart_feedback is not None:
            self.restart_feedback(new)
        if "daemon.log_level" in changed:
            logging.getLogger("onevox").setLevel(new.daemon.log_level.upper())
        return tuple(fixed)

    def _swap(self, stage: Stage, keys: list[str], fixed: list[str], swap: Callable[[], None]) -> None:
        if self.factory.is_given(stage):
            fixed += keys
            return
        try:
            swap()
        except OnevoxError as exc:  # the new settings cannot be built: keep what runs
            name, kept = _KEPT[stage]
            self.controller.diagnostics.error(name, f"{exc}; keeping the previous {kept}")


# the stage name status and events use, and what a failed rebuild keeps
_KEPT = {Stage.SOURCE: ("audio", "input"), Stage.SEGMENTER: ("vad", "detector"),
         Stage.RECOGNIZER: ("model", "model"), Stage.INJECTOR: ("injection", "method")}


def _keep(new: Config, old: Config, keys: tuple[str, ...]) -> Config:
    for key in keys:
        section, name = key.split(".", 1)
        new = new.with_changes(section, **{name: getattr(getattr(old, section), name)})
    return new


def _message(changed: list[str], not_live: tuple[str, ...]) -> str:
    applied = [key for key in changed if key not in not_live]
    parts = [f"applied {', '.join(applied)}"] if applied else []
    if not_live:
        parts.append(f"restart needed for {', '.join(not_live)} (`onevox stop` then `onevox daemon`)")
    return "; ".join(parts) or "no change"
