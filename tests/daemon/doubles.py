"""Small test doubles for the daemon's stages (the real stages are tested in their own suites and wired
together for real in test_daemon_model.py).

- `FakeClock`: virtual time, moved by the test; the dictation code reads it instead of the wall clock.
- `FakeMic`: an AudioSource that produces 20 ms blocks as its clock moves, at the levels the test sets
  (speech = a loud tone, silence = zeros), keeping a pre-roll like the real capture.
- `LevelDetector`: a FrameClassifier that calls a frame speech when it is loud; used with the REAL
  SpeechSegmenter, so segments, pauses and in_speech behave as in the daemon.
- `FakeRecognizer`: returns scripted texts, records each call (audio length, prompt), can be held on a gate.
- `FakeInjector`: records texts, can fail or be held on a gate, and can run a check when called.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from onevox.asr.base import Transcript
from onevox.clock import SYSTEM_CLOCK, Clock
from onevox.config import VadConfig
from onevox.errors import AudioError, InjectionError
from onevox.inject.base import InjectorBase
from onevox.vad.base import FrameByFrame
from onevox.vad.segmenter import SpeechSegmenter

RATE = 16000
BLOCK = 320  # 20 ms
SPEECH_LEVEL = 0.5


def tone(seconds: float, level: float = SPEECH_LEVEL) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


class FakeClock:
    """Virtual time for a dictation: it moves only when a test (or the FakeMic, after a release) says so, so
    tests neither sleep nor race the wall clock. Implements onevox.clock.Clock."""

    def __init__(self) -> None:
        self._ns = 1_000_000_000_000
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def monotonic(self) -> float:
        return self._ns / 1e9

    def perf_ns(self) -> int:
        return self._ns

    def wall(self) -> float:
        return 1_700_000_000.0 + self._ns / 1e9

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._ns += round(seconds * 1e9)
            listeners = list(self._listeners)
        for wake in listeners:
            wake()

    def on_advance(self, wake: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(wake)


class FakeMic:
    """A live microphone double. Audio 'arrives' as its clock moves: with the real clock, one 20 ms block
    every 20 ms of wall time; with a FakeClock, when the test advances it (`Harness.speak`/`pause`) and,
    once the pipeline has noticed a release (its first read that will not wait), by itself one block per
    read, as a real microphone keeps delivering after the key is let go. What the test 'says' is a timeline
    of levels, so what a block holds does not depend on when the pipeline reads it."""

    device_name = "fake-mic"

    def __init__(self, begin_error: Exception | None = None, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SYSTEM_CLOCK
        self._virtual = isinstance(clock, FakeClock)
        self.begin_error = begin_error
        self.begins: list[int] = []  # pre_roll_ms of each begin() that worked
        self.attempts = 0  # begin() calls, failed ones included
        self.ends = 0
        self.started = False
        self.closed = False
        self._cv = threading.Condition()
        self._levels: list[tuple[int, float]] = [(0, 0.0)]  # (absolute sample, level from there on)
        self._active = False
        self._origin = 0  # absolute sample of this dictation's first sample (pre-roll included)
        self._delivered = 0  # samples handed out in the current dictation
        self._end_at: int | None = None
        self._waiting = False  # the reader asked for more than has arrived
        self._released = False  # the reader made a read that will not wait: the key was let go
        if isinstance(clock, FakeClock):
            clock.on_advance(self._wake)

    def attach(self, clock: FakeClock) -> None:
        """Run on `clock` from now on (a harness puts the mic a test made on its own virtual time)."""
        self.clock = clock
        self._virtual = True
        clock.on_advance(self._wake)

    @property
    def level(self) -> float:
        with self._cv:
            return self._levels[-1][1]

    @level.setter
    def level(self, value: float) -> None:
        """From now on the mic hears this level (SPEECH_LEVEL while 'speaking', 0 for silence)."""
        with self._cv:
            self._levels.append((self._now(), value))

    def start(self) -> None:
        self.started = True

    def close(self) -> None:
        self.closed = True

    def status(self) -> dict[str, Any]:
        return {"device": self.device_name, "rate": RATE, "open": self.started and not self.closed,
                "error": None}

    def begin(self, pre_roll_ms: int) -> None:
        with self._cv:
            self.attempts += 1
            if self.begin_error is None:
                self.begins.append(pre_roll_ms)
                self._origin = self._now() - pre_roll_ms * RATE // 1000
                self._delivered = 0
                self._end_at = None
                self._active = True
                self._waiting = self._released = False
            self._cv.notify_all()
        if self.begin_error is not None:
            raise self.begin_error

    def end(self) -> None:
        with self._cv:
            if self._active and self._end_at is None:
                self._end_at = self._now() - self._origin
                self.ends += 1
                self._cv.notify_all()

    def read(self, timeout: float) -> np.ndarray:
        deadline = time.monotonic() + timeout  # how long the reader may block: real time, as for a device
        with self._cv:
            if timeout == 0.0 and self._end_at is None:
                self._released = True
            while True:
                if not self._active:
                    return np.zeros(0, np.float32)
                limit = self._now() - self._origin if self._end_at is None else self._end_at
                if limit - self._delivered >= BLOCK or self._end_at is not None:
                    count = min(BLOCK, limit - self._delivered)
                    if count <= 0:
                        self._active = False
                        self._cv.notify_all()
                        return np.zeros(0, np.float32)
                    self._waiting = False
                    block = self._block(self._origin + self._delivered, count)
                    self._delivered += count
                    self._cv.notify_all()
                    return block
                if self._virtual and self._released and timeout > 0:
                    self._advance_locked()  # after the release the mic keeps delivering by itself
                    continue
                self._waiting = True
                self._cv.notify_all()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return np.zeros(0, np.float32)
                self._cv.wait(remaining if self._virtual else min(remaining, 0.002))

    def wait_begun(self, count: int, timeout: float = 10.0) -> None:
        """Until the pipeline has begun (or tried to begin) its `count`-th dictation on this mic."""
        with self._cv:
            if not self._cv.wait_for(lambda: self.attempts >= count, timeout):
                raise AssertionError(f"the pipeline never began dictation {count} on the mic")

    def wait_caught_up(self, timeout: float = 10.0) -> None:
        """Until the pipeline has read everything that has arrived (or the dictation's capture ended)."""
        def caught_up() -> bool:
            if not self._active or self._end_at is not None:
                return True
            return self._waiting and self._now() - self._origin - self._delivered < BLOCK

        with self._cv:
            if not self._cv.wait_for(caught_up, timeout):
                raise AssertionError("the pipeline stopped reading the mic")

    def _advance_locked(self) -> None:
        assert isinstance(self.clock, FakeClock)
        self._cv.release()  # the clock wakes every mic, this one included
        try:
            self.clock.advance(BLOCK / RATE)
        finally:
            self._cv.acquire()

    def _wake(self) -> None:
        with self._cv:
            self._cv.notify_all()

    def _now(self) -> int:
        return self.clock.perf_ns() * RATE // 1_000_000_000

    def _block(self, first: int, count: int) -> np.ndarray:
        positions = first + np.arange(count)
        levels = np.zeros(count, np.float32)
        for at, level in self._levels:
            levels[positions >= at] = level
        return (levels * np.sin(2 * np.pi * 220 * positions / RATE)).astype(np.float32)


class LevelDetector(FrameByFrame):
    """Speech probability 1.0 for a loud frame, 0.0 for a quiet one."""

    name = "level"
    frame_samples = 512

    def speech_prob(self, frame: np.ndarray) -> float:
        return 1.0 if float(np.sqrt(np.mean(np.square(frame)))) > 0.05 else 0.0

    def reset(self) -> None:
        pass


def make_segmenter(**vad: Any) -> SpeechSegmenter:
    cfg = VadConfig(**{"min_silence_ms": 300, "speech_pad_ms": 100, "min_speech_ms": 100, **vad})
    return SpeechSegmenter(LevelDetector(), cfg)


class FakeRecognizer:
    model_name = "fake-model"

    def __init__(self, texts: list[str] | None = None) -> None:
        self.texts = list(texts or [])
        self.detects: list[str] = []  # the language "detected" by each call made without one (default en)
        self.calls: list[dict[str, Any]] = []
        self.gate: threading.Event | None = None  # when set to an Event, transcribe waits for it
        self.entered = threading.Event()  # set whenever a transcribe call begins
        self.error: Exception | None = None
        self.warmed = False
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        self.warmed = True

    def transcribe(self, audio: np.ndarray, *, prompt: str = "", language: str | None = None) -> Transcript:
        with self._lock:
            index = len(self.calls)
            self.calls.append({"samples": int(audio.size), "prompt": prompt, "language": language,
                               "at": time.monotonic()})
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        if self.error is not None:
            raise self.error
        text = self.texts[index] if index < len(self.texts) else f"word{index}"
        detected = self.detects[index] if index < len(self.detects) else "en"
        return Transcript(text=text, audio_s=audio.size / RATE, model=self.model_name,
                          language=language or detected, language_prob=None if language else 0.9)


class FakeInjector(InjectorBase):
    name = "fake"

    def __init__(self, error: str = "", check: Callable[[str], None] | None = None) -> None:
        self.texts: list[str] = []
        self.error = error
        self.check = check
        self.gate: threading.Event | None = None
        self.entered = threading.Event()

    def inject(self, text: str) -> None:
        self.entered.set()
        if self.check is not None:
            self.check(text)
        if self.gate is not None:
            self.gate.wait(10)
        if self.error:
            raise InjectionError(self.error)
        self.texts.append(text)


def audio_error() -> AudioError:
    return AudioError("input device 'fake-mic' disappeared; plug it back in or pick another one")


def play(mic: FakeMic, clock: FakeClock, level: float, seconds: float) -> None:
    """The mic hears `level` for `seconds` of virtual time, one block at a time, each read by the pipeline
    before the next arrives (what `Harness.speak`/`pause` and the whole-daemon tests use)."""
    mic.level = level
    for _ in range(round(seconds * RATE / BLOCK)):
        clock.advance(BLOCK / RATE)
        mic.wait_caught_up()


def virtual_mic() -> tuple[FakeMic, FakeClock]:
    clock = FakeClock()
    return FakeMic(clock=clock), clock
