"""Small test doubles for the daemon's stages (the real stages are tested in their own suites and wired
together for real in test_daemon_model.py).

- `FakeMic`: an AudioSource that produces 20 ms blocks in real time at a level the test sets (speech = a
  loud tone, silence = zeros), keeping a pre-roll like the real capture.
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
from onevox.config import VadConfig
from onevox.errors import AudioError, InjectionError
from onevox.vad.base import FrameByFrame
from onevox.vad.segmenter import SpeechSegmenter

RATE = 16000
BLOCK = 320  # 20 ms
SPEECH_LEVEL = 0.5


def tone(seconds: float, level: float = SPEECH_LEVEL) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


class FakeMic:
    """A live microphone double: while open, one 20 ms block is 'captured' every 20 ms of wall time."""

    device_name = "fake-mic"

    def __init__(self, begin_error: Exception | None = None) -> None:
        self.level = 0.0  # the test sets this: SPEECH_LEVEL while 'speaking', 0 for silence
        self.begin_error = begin_error
        self.begins: list[int] = []  # pre_roll_ms of each begin()
        self.ends = 0
        self.started = False
        self.closed = False
        self._lock = threading.Lock()
        self._active = False
        self._origin = 0.0
        self._delivered = 0  # samples handed out in the current dictation
        self._end_at: int | None = None
        self._phase = 0

    def start(self) -> None:
        self.started = True

    def close(self) -> None:
        self.closed = True

    def status(self) -> dict[str, Any]:
        return {"device": self.device_name, "rate": RATE, "open": self.started and not self.closed,
                "error": None}

    def begin(self, pre_roll_ms: int) -> None:
        if self.begin_error is not None:
            raise self.begin_error
        with self._lock:
            self.begins.append(pre_roll_ms)
            self._origin = time.monotonic() - pre_roll_ms / 1000
            self._delivered = 0
            self._end_at = None
            self._active = True

    def end(self) -> None:
        with self._lock:
            if self._active and self._end_at is None:
                self._end_at = self._available()
                self.ends += 1

    def read(self, timeout: float) -> np.ndarray:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if not self._active:
                    return np.zeros(0, np.float32)
                limit = self._available() if self._end_at is None else self._end_at
                if limit - self._delivered >= BLOCK or (self._end_at is not None):
                    count = min(BLOCK, limit - self._delivered)
                    if count <= 0:
                        self._active = False
                        return np.zeros(0, np.float32)
                    self._delivered += count
                    return self._block(count)
            if time.monotonic() >= deadline:
                return np.zeros(0, np.float32)
            time.sleep(0.002)

    def _available(self) -> int:
        return int((time.monotonic() - self._origin) * RATE)

    def _block(self, count: int) -> np.ndarray:
        t = (self._phase + np.arange(count)) / RATE
        self._phase += count
        return (self.level * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


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
        self.calls: list[dict[str, Any]] = []
        self.gate: threading.Event | None = None  # when set to an Event, transcribe waits for it
        self.entered = threading.Event()  # set whenever a transcribe call begins
        self.error: Exception | None = None
        self.warmed = False
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        self.warmed = True

    def transcribe(self, audio: np.ndarray, *, prompt: str = "") -> Transcript:
        with self._lock:
            index = len(self.calls)
            self.calls.append({"samples": int(audio.size), "prompt": prompt, "at": time.monotonic()})
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        if self.error is not None:
            raise self.error
        text = self.texts[index] if index < len(self.texts) else f"word{index}"
        return Transcript(text=text, audio_s=audio.size / RATE, model=self.model_name)


class FakeInjector:
    name = "fake"

    def __init__(self, error: str = "", check: Callable[[str], None] | None = None) -> None:
        self.texts: list[str] = []
        self.error = error
        self.check = check
        self.gate: threading.Event | None = None
        self.entered = threading.Event()

    def available(self) -> bool:
        return True

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
