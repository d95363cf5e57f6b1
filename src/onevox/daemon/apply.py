"""Applying a reloaded config to a running daemon, one section at a time.

Each stage is swapped on the worker thread that uses it (Pipeline.call_on), so a dictation in flight finishes
with the stages it started with and the next one gets the new ones. The model is loaded on the ASR worker.
Stages the embedding code passed in (tests, benchmarks) are not rebuilt: their keys are reported as not
applied.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import TYPE_CHECKING, Any

from onevox.config import Config, load_config
from onevox.daemon.dictation import PipelineOptions
from onevox.daemon.reload import changed_keys, describe, restart_needed
from onevox.errors import ConfigError, OnevoxError

if TYPE_CHECKING:
    from onevox.daemon.app import Daemon

log = logging.getLogger(__name__)

_reload_lock = threading.Lock()
# the keys of [audio] that only change pipeline options; the others need the capture reopened
_AUDIO_OPTION_KEYS = ("audio.pre_roll_ms", "audio.post_roll_ms", "audio.max_dictation_s",
                      "audio.save_recordings")
# sections whose keys feed PipelineOptions
_OPTION_KEYS = (*_AUDIO_OPTION_KEYS, "vad.min_speech_ms", "vad.early_decode_ms",
                "post_processing.hallucination_filter")


def reload_config(daemon: Daemon) -> dict[str, Any]:
    """Read the config file again; apply a valid one, reject an invalid one (old config kept)."""
    with _reload_lock:
        controller = daemon.controller
        try:
            new = load_config(daemon.config_path, must_exist=False)
        except ConfigError as exc:
            log.error("config not reloaded, the old one is kept: %s", exc)
            controller.note_reload_rejected(str(exc))
            return {"reloaded": False, "error": str(exc)}
        changed = changed_keys(daemon.config, new)
        retry_model = bool(controller.fault) and daemon.given("recognizer") is None
        restart = restart_needed(changed)
        not_applied = _apply(daemon, new, changed, retry_model)
        daemon.config = controller.config = new
        fields = describe(changed, restart + not_applied)
        if retry_model:
            fields["model"] = "reloading"
        log.info("config reloaded: %s", fields["message"])
        controller.note_reload(**fields)
        return {"reloaded": True, **fields}


def _apply(daemon: Daemon, new: Config, changed: list[str], retry_model: bool) -> list[str]:
    """Apply every live key; returns the changed keys this daemon cannot apply (its stage was given)."""
    pipeline = daemon.controller.pipeline
    fixed: list[str] = []
    if any(key in _OPTION_KEYS for key in changed):
        options = _options(pipeline.options, new)
        pipeline.call_on("capture", lambda: pipeline.set_options(options))
    if any(key.startswith("post_processing.") for key in changed):
        def set_text_cfg() -> None:
            pipeline.text_cfg = new.post_processing

        pipeline.call_on("injection", set_text_cfg)
    if any(key.startswith("vad.") for key in changed):
        _swap_segmenter(daemon, new)
    if any(key.startswith("audio.") and key not in _AUDIO_OPTION_KEYS for key in changed):
        fixed += _swap_source(daemon, new, changed)
    if any(key.startswith("injection.") for key in changed):
        fixed += _swap_injector(daemon, new, changed)
    if retry_model or any(key.startswith("model.") for key in changed):
        fixed += _swap_model(daemon, new, changed)
    if any(key.startswith("hotkey.") for key in changed):
        daemon.restart_hotkey(new)
    if "daemon.log_level" in changed:
        logging.getLogger("onevox").setLevel(new.daemon.log_level.upper())
    return fixed


def _options(old: PipelineOptions, new: Config) -> PipelineOptions:
    """New options from the config, keeping what the daemon was built with that is not a config key."""
    fresh = PipelineOptions.from_config(new)
    return dataclasses.replace(fresh, recordings_dir=old.recordings_dir, read_timeout_s=old.read_timeout_s)


def _swap_segmenter(daemon: Daemon, new: Config) -> None:
    from onevox.daemon.app import _build_segmenter

    try:
        segmenter = _build_segmenter(new)
    except OnevoxError as exc:
        daemon.controller.note_problem("vad", f"{exc}; keeping the previous detector")
        return
    stages = daemon.controller.stages

    def swap() -> None:
        stages.segmenter = segmenter

    daemon.controller.pipeline.call_on("capture", swap)


def _swap_source(daemon: Daemon, new: Config, changed: list[str]) -> list[str]:
    keys = [k for k in changed if k.startswith("audio.") and k not in _AUDIO_OPTION_KEYS]
    if daemon.given("source") is not None:
        return keys
    from onevox.daemon.app import _build_capture

    def swap() -> None:  # on the capture worker, between dictations
        stages = daemon.controller.stages
        old = stages.source
        source = _build_capture(new, daemon.on_audio_event)
        stages.source = source
        daemon.replace_source(source)
        old.close()
        try:
            source.start()
        except OnevoxError as exc:
            daemon.on_audio_event("device_lost", str(exc))
            return
        daemon.on_audio_event("device_changed", f"reopened {source.device_name} for {', '.join(keys)}")

    daemon.controller.pipeline.call_on("capture", swap)
    return []


def _swap_injector(daemon: Daemon, new: Config, changed: list[str]) -> list[str]:
    if daemon.given("injector") is not None:
        return [k for k in changed if k.startswith("injection.")]
    from onevox.daemon.app import _build_injector

    try:
        injector = _build_injector(new)
    except OnevoxError as exc:
        daemon.controller.note_problem("injection", f"{exc}; keeping the previous method")
        return []
    stages = daemon.controller.stages

    def swap() -> None:  # on the delivery worker, between dictations
        old, stages.injector = stages.injector, injector
        close = getattr(old, "close", None)
        if close is not None:
            close()

    daemon.controller.pipeline.call_on("injection", swap)
    return []


def _swap_model(daemon: Daemon, new: Config, changed: list[str]) -> list[str]:
    if daemon.given("recognizer") is not None:
        return [k for k in changed if k.startswith("model.")]
    from onevox.daemon.app import _load_recognizer

    controller = daemon.controller

    def load() -> None:  # on the ASR worker: decodes wait for the new model rather than mixing two
        try:
            recognizer = _load_recognizer(new, daemon.metrics)
        except OnevoxError as exc:
            if controller.fault:
                controller.set_fault("model", str(exc))
            else:
                controller.note_problem("model", f"{exc}; keeping {controller.stages.recognizer.model_name}")
            return
        controller.stages.recognizer = recognizer
        controller.clear_fault()
        controller.bus.publish("model_loaded", model=recognizer.model_name)
        log.info("model %s loaded", recognizer.model_name)

    controller.pipeline.call_on("inference", load)
    return []
