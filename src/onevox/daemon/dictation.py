"""The dictation pipeline: three worker threads that carry one dictation from the microphone to the window.

    capture worker  reads the AudioSource, feeds the SpeechSegmenter, hands each finished segment on
    ASR worker      owns the model: decodes segments WHILE the user is still speaking (text so far = prompt)
    delivery worker post-processes, writes history (before injecting), injects, marks the history entry

The controller creates each `Dictation` and changes the daemon's state; the workers only fill the dictation in
and report to a `PipelineListener` (the controller).
A cancelled dictation is dropped wherever it is: queued segments are skipped, a decode in progress finishes
but its text is thrown away, and nothing is injected.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from onevox.asr.base import PromptedRecognizer, RemoteRecognizer, TimedTranscript, WordRecognizer
from onevox.audio import SAMPLE_RATE
from onevox.clock import SYSTEM_CLOCK, Clock
from onevox.config import CommandsConfig, PostProcessingConfig
from onevox.daemon.delivery import Delivery
from onevox.daemon.early import EarlyDecode, PauseWatcher
from onevox.daemon.incremental import IncrementalDecoder, IncrementalOptions
from onevox.daemon.options import PipelineListener, PipelineOptions
from onevox.daemon.stages import Stages
from onevox.daemon.state import AudioEvent
from onevox.errors import OnevoxError
from onevox.text.hallucination import is_hallucination
from onevox.text.postprocess import join_segments

if TYPE_CHECKING:
    from onevox.asr.base import SpeechRecognizer
    from onevox.audio.base import AudioSource
    from onevox.daemon.record import Dictation
    from onevox.inject.base import Injector
    from onevox.vad.segmenter import SpeechSegment, SpeechSegmenter

log = logging.getLogger(__name__)

_STOP = object()  # sentinel that ends a worker thread
_CAPTURE, _INFERENCE, _INJECTION = "capture", "inference", "injection"  # the workers, named as in traces


class Pipeline:
    """Owns the three worker threads; `begin(d)` queues a dictation for capture."""

    def __init__(self, stages: Stages, options: PipelineOptions, text_cfg: PostProcessingConfig,
                 listener: PipelineListener, clock: Clock = SYSTEM_CLOCK,
                 commands: CommandsConfig | None = None) -> None:
        self.stages = stages
        self.options = options
        self.text_cfg = text_cfg
        self.commands = commands  # [commands]: spoken punctuation (None: none)
        self.listener = listener
        self.clock = clock
        self._capture_q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._asr_q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._deliver_q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._last_end_ns = 0  # when the previous dictation's capture ended (no audio read twice)
        self._decoding: Dictation | None = None  # the dictation the ASR worker has begun and not ended
        self._deferred_load: Callable[[], None] | None = None  # a model load waiting for it to end
        self._pauses = _pause_watcher(options)
        self._delivery = Delivery(stages, listener, clock, self._record, self._report)
        self._incremental = IncrementalDecoder(self._decode_words, self._decode, IncrementalOptions(),
                                               options.live)
        workers = ((self._capture_q, self._capture, _CAPTURE, True),
                   (self._asr_q, self._asr_job, _INFERENCE, False),  # one bad segment: the rest still count
                   (self._deliver_q, self._deliver, _INJECTION, True))
        self._threads = [threading.Thread(target=self._serve, args=w, name=f"onevox-{w[2]}", daemon=True)
                         for w in workers]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def begin(self, d: Dictation) -> None:
        self._capture_q.put((d,))

    # -- changes between two dictations (a config reload) -------------------------------------------------
    # Each runs on the worker that uses what it changes, between two jobs, so no dictation ever sees half
    # of a change: one in flight finishes with what it started with.

    def set_options(self, options: PipelineOptions) -> None:
        """New pre/post roll, limits and early-decode settings."""
        def apply() -> None:
            self.options = options
            self._pauses = _pause_watcher(options)
            self._incremental.live = options.live

        self._capture_q.put(_Call(apply))

    def set_text_config(self, text_cfg: PostProcessingConfig, commands: CommandsConfig | None) -> None:
        def apply() -> None:
            self.text_cfg = text_cfg
            self.commands = commands

        self._deliver_q.put(_Call(apply))

    def swap_segmenter(self, segmenter: SpeechSegmenter) -> None:
        def apply() -> None:
            self.stages.segmenter = segmenter

        self._capture_q.put(_Call(apply))

    def swap_source(self, source: AudioSource, reason: str) -> None:
        """Close the current input and open `source`; the listener hears how that went."""
        def apply() -> None:
            old, self.stages.source = self.stages.source, source
            old.close()
            try:
                source.start()
            except OnevoxError as exc:
                self.listener.on_audio_event(AudioEvent.LOST, str(exc))
                return
            self.listener.on_audio_event(AudioEvent.CHANGED, f"reopened {source.device_name} for {reason}")

        self._capture_q.put(_Call(apply))

    def swap_injector(self, injector: Injector, *, close_old: bool) -> None:
        def apply() -> None:
            old, self.stages.injector = self.stages.injector, injector
            if close_old:
                old.close()

        self._deliver_q.put(_Call(apply))

    def load_model(self, load: Callable[[], SpeechRecognizer]) -> None:
        """Load a model on the ASR worker (decodes wait for it rather than mixing two models). A dictation
        already being decoded finishes on the model it began with; the load runs once its audio is in."""
        def apply() -> None:
            if self._decoding is not None and not self._decoding.cancelled:
                self._deferred_load = load_now
            else:
                load_now()

        def load_now() -> None:
            try:
                recognizer = load()
            except OnevoxError as exc:
                self.listener.on_model_failed(str(exc))
                return
            old, self.stages.recognizer = self.stages.recognizer, recognizer
            if isinstance(old, RemoteRecognizer):  # its open connection would outlive it
                old.close()
            self.listener.on_model_loaded(recognizer.model_name)

        self._asr_q.put(_Call(apply))

    def dropped(self, d: Dictation) -> None:
        """`d` was cancelled: its last job may never come, so a model load waiting for it goes ahead."""
        def apply() -> None:
            if self._decoding is d:
                self._decoding = None
                self._run_deferred_load()

        self._asr_q.put(_Call(apply))

    def close(self, timeout: float = 5.0) -> None:
        """Stop the workers (what is queued is dropped by the caller's cancel, not decoded)."""
        for q in (self._capture_q, self._asr_q, self._deliver_q):
            q.put(_STOP)
        deadline = time.monotonic() + timeout  # joining threads: real time, whatever the dictation clock
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(deadline - time.monotonic(), 0.0))
        if not self._threads[-1].is_alive():  # else the delivery worker may still be typing with them
            self._delivery.close()

    def _serve(self, jobs: queue.SimpleQueue[Any], handle: Any, stage: str, fatal: bool) -> None:
        """A worker thread: handles each job of a dictation still wanted; a failure is reported (fatal: the
        dictation ends) and the thread carries on, whatever a device, the model or a window does."""
        while (job := jobs.get()) is not _STOP:
            if isinstance(job, _Call):
                job.run(stage)
                continue
            if job[0].cancelled:
                continue
            try:
                handle(*job)
            except Exception as exc:
                self._report(job[0], stage, exc, fatal=fatal)

    # -- capture worker -----------------------------------------------------------------------------------

    def _capture(self, d: Dictation) -> None:
        source, segmenter = self.stages.source, self.stages.segmenter
        d.language = d.language or self.options.language  # the configured one, with this capture's options
        segmenter.reset()
        self._pauses.reset()
        source.begin(self._pre_roll_ms(d))
        try:
            begun = self.clock.perf_ns()
            self._record(d, "hotkey", (begun - d.requested_ns) / 1e6)
            max_samples = int(self.options.max_dictation_s * SAMPLE_RATE)
            while not d.cancelled and not d.stopping:
                self._consume(d, source.read(self.options.read_timeout_s))
                if d.audio_samples >= max_samples:
                    self.listener.on_max_duration(d)
                    d.request_stop()  # in case the controller did not (it normally does)
            if not d.cancelled:
                self._finish_capture(d)
        finally:
            source.end()  # idempotent: _finish_capture has usually ended it already
            self._last_end_ns = self.clock.perf_ns()
            if d.cancelled:
                segmenter.reset()

    def _pre_roll_ms(self, d: Dictation) -> int:
        """The configured pre-roll, measured back from the start command (it may have waited for the
        previous dictation's tail), but never reaching into audio the previous dictation already read."""
        now = self.clock.perf_ns()
        wanted = (now - d.requested_ns) / 1e6 + self.options.pre_roll_ms
        if self._last_end_ns:
            wanted = min(wanted, (now - self._last_end_ns) / 1e6)
        return max(int(wanted), 0)

    def _consume(self, d: Dictation, chunk: np.ndarray) -> None:
        if chunk.size == 0:
            return
        d.audio_samples += chunk.size
        if self.options.save_recordings or self.options.save_failed:
            d.chunks.append(chunk.copy())
        start = self.clock.perf_ns()
        segmenter = self.stages.segmenter
        segments = segmenter.push(chunk)
        self._record(d, "vad", (self.clock.perf_ns() - start) / 1e6)
        self._queue_segments(d, segments, final=d.stopping)
        if self.options.early_decode_ms > 0 or self._passes_on():
            early = self._pauses.push(chunk, segmenter.in_speech, segments, segmenter.open_start)
            if early is not None and self.options.early_decode_ms > 0:
                self._asr_q.put((d, "early", early))
            if not d.stopping and self._passes_on() and (snap := self._pauses.due_pass(segmenter.in_speech)):
                self._asr_q.put((d, "pass", snap))

    def _passes_on(self) -> bool:
        return self.options.pass_interval_ms > 0 and IncrementalDecoder.supports(self.stages.recognizer)

    def _finish_capture(self, d: Dictation) -> None:
        """After the stop: a tail only while speech is still going on, then everything captured up to the
        end. With incremental decoding the open segment is decoded at once, while the tail comes in."""
        source, segmenter = self.stages.source, self.stages.segmenter
        self._consume(d, source.read(0.0))
        if segmenter.in_speech and self.options.post_roll_ms > 0:
            d.post_roll = True
            released = segmenter.samples_seen
            if self._passes_on():
                self._asr_q.put((d, "release", self._pauses.snapshot()))
            target = d.audio_samples + self.options.post_roll_ms * SAMPLE_RATE // 1000
            deadline = self.clock.monotonic() + self.options.post_roll_ms / 1000 + 0.25  # a stalled device
            quiet = self._incremental.options.tail_quiet_s * SAMPLE_RATE
            # the tail ends once the voice has been quiet a moment, not when the VAD's hysteresis lets go
            while segmenter.in_speech and segmenter.samples_seen - segmenter.voiced_end < quiet \
                    and d.audio_samples < target and self.clock.monotonic() < deadline and not d.cancelled:
                self._consume(d, source.read(self.options.read_timeout_s))
            slack = self._incremental.options.release_slack_s * SAMPLE_RATE
            d.tail_speech = segmenter.voiced_end - released > slack
        source.end()
        while not d.cancelled and (chunk := source.read(0.0)).size:  # after end(): never waits
            self._consume(d, chunk)
        if d.cancelled:
            return
        self._queue_segments(d, segmenter.flush(), final=True)
        self._record(d, "capture", (self.clock.perf_ns() - d.release_ns) / 1e6)
        self._asr_q.put((d, "end", None))  # this dictation's audio is all in

    def _queue_segments(self, d: Dictation, segments: list[SpeechSegment], *, final: bool = False) -> None:
        """`final`: closed after the stop command (the user is waiting for this text)."""
        if not segments:
            return
        early = self._pauses.take(segments)
        for segment in segments:
            d.segments += 1
            self._asr_q.put((d, "segment", (segment, early, final)))

    # -- ASR worker ---------------------------------------------------------------------------------------

    def _asr_job(self, d: Dictation, kind: str, payload: Any) -> None:
        if d is not self._decoding:  # the first job of a dictation (the one before may have been cancelled)
            self._decoding = d
            self._run_deferred_load()
            self._use_context(d)
            if self.stages.vocabulary is not None:  # spellings learned since the last dictation
                self.stages.vocabulary.prime(self.stages.recognizer)
        if kind == "end":
            self._deliver_q.put((d,))
            self._decoding = None
            self._run_deferred_load()
        elif kind == "early":
            if not payload.stale:  # speech resumed before its turn came: not worth decoding
                payload.text = self._decode(d, payload.audio, early=True)
        elif kind == "pass":
            if d.stopping:  # the release decode covers it
                payload.started = True
                return
            d.passes += 1
            if self._incremental.run_pass(d, payload):
                self._settled(d)
        elif kind == "release":
            self._incremental.release(d, payload)
        else:
            self._add_segment(d, *payload)

    def _use_context(self, d: Dictation) -> None:
        """The dictation's profile may bring its own initial prompt and vocabulary; else the configured."""
        recognizer = self.stages.recognizer
        if isinstance(recognizer, PromptedRecognizer):
            if d.config is None:
                recognizer.use_context()
            else:
                recognizer.use_context(d.config.model.initial_prompt, d.config.model.vocabulary)

    def _run_deferred_load(self) -> None:
        load, self._deferred_load = self._deferred_load, None
        if load is not None:
            load()

    def _settled(self, d: Dictation) -> None:
        """New words were settled: the listener shows them; in live mode they go into the window."""
        text = join_segments([*d.texts, self._incremental.settled_text(d)])
        self.listener.on_partial(d, text)
        if self.options.live:
            self._deliver_q.put((d, text))

    def _add_segment(self, d: Dictation, segment: SpeechSegment, early: EarlyDecode | None,
                     final: bool) -> None:
        if early is not None and early.text is not None:
            text = early.text
            d.reused += 1
            d.agreement = None
            d.closed_end = max(d.closed_end, segment.end)
        elif final and IncrementalDecoder.supports(self.stages.recognizer):
            text = self._incremental.final_text(d, segment)
        elif (settled := self._incremental.closed_text(d, segment)) is not None:
            text = settled
        else:
            text = self._decode(d, segment.audio)
        if d.cancelled:
            return  # decoded, but nobody wants it any more
        if not d.stopping:
            d.early_segments += 1
        if text and not (self.options.hallucination_filter and is_hallucination(text, d.language)):
            d.texts.append(text)

    def _decode_words(self, d: Dictation, audio: np.ndarray, prompt: str, *,
                      timed: bool = True, final: bool = False, known_s: float = 0.0) -> TimedTranscript:
        """Words of `audio`, never redone on the full window: a doubted decode comes back empty (`doubt`).
        A pass is given up once the key is released (the release decode covers its audio and more), so the
        decode the user waits for never waits for it."""
        recognizer = self.stages.recognizer
        assert isinstance(recognizer, WordRecognizer)  # IncrementalDecoder.supports checked it
        with self.stages.metrics.span("inference", dictation=d.id, audio_s=round(audio.size / SAMPLE_RATE, 3),
                                      words=True):
            start = self.clock.perf_ns()
            transcript = recognizer.transcribe_words(audio, prompt=prompt, language=d.language_hint,
                                                     fallback=False, timed=timed, speech=final,
                                                     known_s=known_s, abandon=None if final else d.overtaken)
            self._record(d, "inference", (self.clock.perf_ns() - start) / 1e6)
        d.note_language(transcript.text, transcript.language, transcript.language_prob, transcript.audio_s)
        return transcript

    def _decode(self, d: Dictation, audio: np.ndarray, prompt: str | None = None, *,
                early: bool = False) -> str:
        """Plain text of `audio`; `prompt` defaults to the dictation's text so far."""
        with self.stages.metrics.span("inference", dictation=d.id, audio_s=round(audio.size / SAMPLE_RATE, 3),
                                      early=early):
            start = self.clock.perf_ns()
            context = d.prompt() if prompt is None else prompt
            transcript = self.stages.recognizer.transcribe(audio, prompt=context, language=d.language_hint)
            self._record(d, "inference", (self.clock.perf_ns() - start) / 1e6)
        if transcript.model not in d.models:
            d.models.append(transcript.model)
        d.note_language(transcript.text, transcript.language, transcript.language_prob, transcript.audio_s)
        return transcript.text.strip()

    # -- delivery worker ----------------------------------------------------------------------------------

    def _deliver(self, d: Dictation, live: str | None = None) -> None:
        if live is not None:
            self._delivery.live(d, live, self.text_cfg, self.commands)
        else:
            self._delivery.final(d, self.text_cfg, self.options, self.commands)

    # -- helpers ------------------------------------------------------------------------------------------

    def _record(self, d: Dictation, stage: str, ms: float) -> None:
        d.add_time(stage, ms)
        self.stages.metrics.record(stage, ms)

    def _report(self, d: Dictation, stage: str, exc: BaseException, *, fatal: bool) -> None:
        if not isinstance(exc, OnevoxError):
            log.exception("unexpected failure in %s for dictation %d", stage, d.id, exc_info=exc)
        self.listener.on_error(d, stage, str(exc) or type(exc).__name__, fatal=fatal)


def _pause_watcher(options: PipelineOptions) -> PauseWatcher:
    ms = SAMPLE_RATE // 1000
    return PauseWatcher(options.early_decode_ms * ms, options.min_speech_ms * ms, 300 * ms,
                        options.pass_interval_ms * ms)


class _Call:
    def __init__(self, action: Any) -> None:
        self.action = action

    def run(self, stage: str) -> None:
        try:
            self.action()
        except Exception:  # the action reports its own failures; this only keeps the worker alive
            log.exception("a task on the %s worker failed", stage)
