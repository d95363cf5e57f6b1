"""The delivery worker's jobs: post-process, write history before injecting, inject, mark the entry; and in
live mode, type the words settled while the user is still speaking. A dictation that cannot be injected is
still in the history, and the report says how to get it back."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from onevox.asr.memory import release_free_memory
from onevox.clock import Clock
from onevox.config import CommandsConfig, PostProcessingConfig
from onevox.daemon.live import live_rest
from onevox.daemon.recording import save_recording
from onevox.daemon.stages import Stages
from onevox.daemon.state import Outcome
from onevox.errors import OnevoxError
from onevox.history import HistoryEntry
from onevox.text.postprocess import join_segments, postprocess

if TYPE_CHECKING:
    from onevox.daemon.options import PipelineListener, PipelineOptions
    from onevox.daemon.record import Dictation

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

    def final(self, d: Dictation, text_cfg: PostProcessingConfig, options: PipelineOptions,
              commands: CommandsConfig | None = None) -> None:
        """Everything is decoded: post-process, write history, inject, mark the history entry."""
        start = self.clock.perf_ns()
        d.raw_text = join_segments(d.texts)
        d.text = postprocess(d.raw_text, text_cfg, d.language, commands)
        self._record(d, "postprocess", (self.clock.perf_ns() - start) / 1e6)
        if options.save_recordings:
            self._save_recording(d, options.recordings_dir)
        if not d.text.strip():
            d.outcome = Outcome.EMPTY
            self.listener.on_transcribed(d)
            self.listener.on_done(d)
            return
        self.listener.on_transcribed(d)
        self._add_history(d)
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
        if d.cancelled or d.injecting:
            return
        delta = live_rest(d.live_text, postprocess(raw, text_cfg, d.language, commands).rstrip())
        if not delta.strip():
            return
        try:
            with self.stages.metrics.span("injection", dictation=d.id, chars=len(delta), live=True):
                self.stages.injector.inject(delta)
        except Exception as exc:  # the final delivery types everything that is missing
            self._report(d, "injection", exc, fatal=False)
            return
        d.live_text += delta

    def _add_history(self, d: Dictation) -> None:
        history = self.stages.history
        if history is None:
            return
        start = self.clock.perf_ns()
        entry = HistoryEntry(text=d.text, raw_text=d.raw_text, audio_s=round(d.audio_s, 3),
                             model=self.stages.recognizer.model_name, timings=dict(d.timings),
                             language=d.language, language_prob=_rounded(d.language_prob))
        try:
            d.history_id = history.add(entry)
        except OnevoxError as exc:  # the text is still injected: losing history must not lose the words
            self._report(d, "history", exc, fatal=False)
        self._record(d, "history", (self.clock.perf_ns() - start) / 1e6)

    def _inject(self, d: Dictation) -> None:
        injector = self.stages.injector
        start = self.clock.perf_ns()
        text = live_rest(d.live_text, d.text) if d.live_text else d.text
        try:
            with self.stages.metrics.span("injection", dictation=d.id, chars=len(text)):
                if text:
                    injector.inject(text)
        except Exception as exc:
            if not isinstance(exc, OnevoxError):
                log.exception("injector %s failed unexpectedly", injector.name)
            d.outcome = Outcome.FAILED
            self._mark_history(d, "failed", str(exc))
            hint = (f" (the text is saved as history #{d.history_id}: onevox history last --copy)"
                    if d.history_id else "")
            self._report(d, "injection", OnevoxError(f"{exc}{hint}"), fatal=True)
            return
        end = self.clock.perf_ns()
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



def _rounded(probability: float | None) -> float | None:
    return None if probability is None else round(probability, 3)
