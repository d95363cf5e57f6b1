"""One dictation in flight: the flags the controller sets and the results the pipeline's workers fill in."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from onevox.audio import SAMPLE_RATE
from onevox.clock import SYSTEM_CLOCK, Clock
from onevox.daemon.state import Outcome

if TYPE_CHECKING:
    from onevox.asr.agreement import Agreement
    from onevox.config import Config, InjectionConfig

_MAX_PROMPT_CHARS = 1200  # more than the model can take as context; bounds tokenising a long dictation
# A detected language is kept for the rest of the dictation once it comes from a decode with text and at
# least this much audio. Measured on Whisper base: from the first 1-1.5 s of a clip (leading silence
# included) detection was wrong on 8 of 10 clips, from 2-3 s right on nearly all of them.
DETECT_MIN_S = 2.5


class Dictation:
    """One dictation in flight. The controller sets its flags; the pipeline's workers fill in its results."""

    def __init__(self, dictation_id: int, clock: Clock = SYSTEM_CLOCK) -> None:
        self.id = dictation_id
        self._clock = clock
        self.requested_ns = clock.perf_ns()  # when the start command arrived
        self.created_at = clock.wall()
        self.release_ns = 0  # when the stop command arrived (0: still recording)
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._flag_lock = threading.Lock()
        self.injecting = False  # True once the text is being delivered (too late to cancel)
        self.audio_samples = 0
        self.chunks: list[np.ndarray] = []  # only filled when recordings are saved
        self.segments = 0
        self.early_segments = 0  # segments decoded before the stop command (streaming at work)
        self.reused = 0  # segments whose text came from an early decode made during a pause
        self.texts: list[str] = []  # raw text of each decoded segment, in order
        self.timings: dict[str, float] = {}
        self.post_roll = False  # True when a tail was read after the stop (speech was still going on)
        self.raw_text = ""
        self.text = ""
        self.method = ""
        self.command = ""  # the edit command this dictation was ("scratch", "enter", "tab"), '' for text
        self.command_result = ""  # what the command did, or why it was refused
        self.outcome = Outcome.PENDING
        self.history_id = 0
        self.recording_path = ""
        self.errors: list[str] = []  # failures that did not end the dictation (a segment, the history)
        self.models: list[str] = []  # the models that decoded its segments, once each (a remote engine's
        # local fallback shows here)
        # incremental decoding (ASR worker only): the open segment's settled words, the text decoded at the
        # stop command and where its audio ended, and whether speech went on after the stop
        self.agreement: Agreement | None = None
        self.speculative: tuple[str, int] | None = None
        self.tail_speech = False  # set by the capture worker before it queues the final segment
        self.passes = 0  # incremental passes decoded for this dictation
        self.closed_end = 0  # where the last segment closed while the user spoke ended (stream samples)
        self.live_text = ""  # live mode: what is already in the window (delivery worker only)
        # the dictation's language: the configured `[model] language` ("auto": to be detected), set when
        # capture begins; the ASR worker replaces it with the latest detection until one is kept (`fixed`)
        self.language = ""
        self.language_prob: float | None = None  # None: the language was given, not detected
        self.language_fixed = False
        # the per-application profile matched when it started ("": none) and what it changes: the config
        # this dictation runs with (None: the daemon's), whether it may type at all
        self.profile = ""
        self.config: Config | None = None
        self.injection: InjectionConfig | None = None  # a profile's own injection settings
        self.enabled = True

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def overtaken(self) -> bool:
        """Whether a decode made while the user spoke is no longer wanted: stopped or cancelled."""
        return self._stop.is_set() or self._cancel.is_set()

    @property
    def audio_s(self) -> float:
        return self.audio_samples / SAMPLE_RATE

    def request_stop(self) -> None:
        if not self._stop.is_set():
            self.release_ns = self._clock.perf_ns()
            self._stop.set()

    def cancel(self) -> bool:
        """Drop this dictation; False when its text is already being injected (that cannot be undone)."""
        with self._flag_lock:
            if self.injecting:
                return False
            self._cancel.set()
            return True

    def begin_injection(self) -> bool:
        """Claim the dictation for injection; False when it was cancelled first."""
        with self._flag_lock:
            if self._cancel.is_set():
                return False
            self.injecting = True
            return True

    @property
    def language_hint(self) -> str | None:
        """The language every later decode of this dictation uses (None: not known yet, detect)."""
        return self.language if self.language_fixed else None

    def note_language(self, text: str, language: str, probability: float | None, audio_s: float) -> None:
        """What a decode said about the language; the first trustworthy answer is kept for good, so a
        dictation never switches language between segments."""
        if self.language_fixed or not language:
            return
        self.language, self.language_prob = language, probability
        self.language_fixed = probability is None or (bool(text.strip()) and audio_s >= DETECT_MIN_S)

    def add_time(self, stage: str, ms: float) -> None:
        self.timings[stage] = round(self.timings.get(stage, 0.0) + ms, 3)

    def prompt(self) -> str:
        """The text so far, as context for the next segment (the model keeps only its last ~220 tokens)."""
        text = " ".join(self.texts)
        if len(text) > _MAX_PROMPT_CHARS:
            text = text[-_MAX_PROMPT_CHARS:].split(" ", 1)[-1]
        return text
