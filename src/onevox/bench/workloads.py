"""The measured operations, built once and shared by `onevox bench` and the pytest-benchmark suite.

A `Workload` is the timed call plus an optional untimed `prepare` run before each call: a dictation's
"speaking" happens in `prepare`, so only key release -> text delivered is timed.
"""

from __future__ import annotations

import io
import itertools
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from onevox.audio import SAMPLE_RATE
from onevox.config import Config, VadConfig

if TYPE_CHECKING:
    from onevox.bench.continuous import Continuous

DATA_DIR = Path(__file__).with_name("data")
SHORT_CLIP = DATA_DIR / "short.flac"  # ~1 s utterance (espeak-ng, "Open a new document.")
LONG_CLIP = DATA_DIR / "long.flac"  # ~9 s utterance (espeak-ng)
HUNDRED_CHARS = ("The quick brown fox jumps over the lazy dog; naïve café owners "
                 "ship forty-two boxes to Zürich today!")


@dataclass
class Workload:
    key: str  # a Metric key from onevox.bench.targets
    run: Callable[[], Any]  # the timed call
    prepare: Callable[[], None] | None = None  # untimed, before every call
    close: Callable[[], None] = field(default=lambda: None)
    per_call: float = 1.0  # how many of the metric's units one call covers (e.g. 10 x 100 ms)


def ring_write() -> Workload:
    from onevox.audio.ring import RingBuffer

    ring = RingBuffer(48000 * 10)
    block = np.random.default_rng(1).standard_normal(4800).astype(np.float32) * 0.1  # 100 ms at 48 kHz
    return Workload("ring_write_100ms", lambda: ring.write(block))


def resample() -> Workload:
    from onevox.audio.resample import StreamResampler

    resampler = StreamResampler(48000)
    block = np.random.default_rng(2).standard_normal(4800).astype(np.float32) * 0.1
    return Workload("resample_100ms", lambda: resampler.process(block))


def vad(backend: str, speech: np.ndarray) -> Workload:
    """The capture worker's real VAD cost: the segmenter fed 100 ms chunks of speech, one per call."""
    from onevox.vad import create_detector
    from onevox.vad.segmenter import SpeechSegmenter

    cfg = VadConfig(backend=backend)
    segmenter = SpeechSegmenter(create_detector(cfg), cfg)
    step = SAMPLE_RATE // 10
    usable = speech[: len(speech) - len(speech) % step]
    chunks = itertools.cycle([usable[i:i + step].copy() for i in range(0, len(usable), step)])
    return Workload(f"vad_{backend}_100ms", lambda: segmenter.push(next(chunks)))


def inference(recognizer: Any, audio: np.ndarray, key: str = "inference_1s") -> Workload:
    return Workload(key, lambda: recognizer.transcribe(audio))


def faster_whisper(model: Any, audio: np.ndarray, key: str) -> Workload:
    """Plain faster-whisper with its default settings: the baseline onevox is compared with."""
    def run() -> str:
        segments, _info = model.transcribe(audio)
        return " ".join(s.text for s in segments)
    return Workload(key, run)


def load_faster_whisper(config: Config) -> Any:
    from faster_whisper import WhisperModel

    from onevox.models.registry import resolve_model

    path = resolve_model(config.model.name).path
    return WhisperModel(str(path), device="cpu", compute_type=config.model.compute_type,
                        cpu_threads=config.model.threads)


def injection(injector: Any, text: str = HUNDRED_CHARS) -> Workload:
    return Workload("injection_100_chars", lambda: injector.inject(text))


class _SignalStream(io.StringIO):
    """What the stdout injector writes to in a benchmark: remembers the text, wakes the waiter."""

    def __init__(self) -> None:
        super().__init__()
        self.delivered = threading.Event()

    def flush(self) -> None:
        super().flush()
        self.delivered.set()


class DictationRig:
    """The real daemon in-process: a file played as the microphone (in real time), real VAD and model, the
    real controller and pipeline, and the stdout injector writing into memory.

    A dictation's text is everything the injector writes from the moment `speak()` presses the key until
    the dictation is over after `release()`: in live mode words arrive in pieces while the key is still
    down, and they belong to the same dictation."""

    def __init__(self, config: Config, recognizer: Any | None = None) -> None:
        from onevox.audio.filesource import FileAudioSource
        from onevox.daemon.app import Daemon
        from onevox.daemon.stages import StageFactory
        from onevox.inject.stdout import StdoutInjector

        # History stays on (writing it first is part of every dictation's cost) but in a folder of its own:
        # benchmark speech has no place in the user's history.
        self._scratch = tempfile.TemporaryDirectory(prefix="onevox-bench-")
        config = config.with_changes("history", path=str(Path(self._scratch.name) / "history.sqlite3"))
        self.source = FileAudioSource(np.zeros(0, dtype=np.float32), SAMPLE_RATE, realtime=True)
        self.sink = _SignalStream()
        factory = StageFactory(source=self.source, injector=StdoutInjector(self.sink), recognizer=recognizer)
        self.daemon = Daemon(config, factory=factory, ipc=False, hotkey=False)
        self.daemon.start()
        self._events = self.daemon.bus.subscribe()
        self._mark = 0  # sink position when the key went down
        self.texts: list[str] = []
        self.speaking: list[SpeakingCpu] = []  # one per speak(), in order

    def speak(self, audio: np.ndarray, hold_s: float = 0.0) -> None:
        """Press the key and say `audio`; returns `hold_s` after the last sample reaches the microphone
        (the key still down). Records the process's CPU use over that time in `speaking`."""
        self._drain_events()
        self.sink.delivered.clear()
        self._mark = self.sink.tell()
        wall, cpu = time.perf_counter(), time.process_time()
        self.source.feed(audio)
        self.daemon.controller.start()
        deadline = time.monotonic() + len(audio) / SAMPLE_RATE + 5.0
        while not self.source.exhausted and time.monotonic() < deadline:
            time.sleep(0.002)
        if hold_s > 0:
            time.sleep(hold_s)
        self.speaking.append(SpeakingCpu(time.process_time() - cpu, time.perf_counter() - wall))

    def release(self, timeout: float = 30.0) -> str:
        """Release the key and wait until the dictation is over (text delivered, or nothing to deliver);
        returns all it typed since `speak()`.

        Over means the controller back to idle: it gets there in the same step that publishes the
        dictation's final "injected" event (`Controller.on_done`), microseconds later. An "injected" event
        alone is not waited for, as live mode may report pieces typed while the key was down."""
        self.daemon.controller.stop()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self._events.get(timeout=max(0.0, deadline - time.monotonic()))
            if event is None or event.get("event") != "state":
                continue
            if event.get("state") == "idle":
                text = self.sink.getvalue()[self._mark:]
                self.texts.append(text)
                return text
            if event.get("state") == "error":
                raise RuntimeError(f"dictation failed: {event.get('message')}")
        raise TimeoutError(f"no text {timeout:g} s after release")

    def _drain_events(self) -> None:
        while self._events.get(timeout=0) is not None:
            pass

    def close(self) -> None:
        self._events.close()
        self.daemon.stop()
        self._scratch.cleanup()


@dataclass(frozen=True)
class SpeakingCpu:
    """CPU time this process used (every thread: the daemon's workers, the microphone feeder, the rig)
    while one `speak()` lasted."""

    cpu_s: float
    wall_s: float

    @property
    def cores(self) -> float:
        """Share of one core: 1.0 is one core busy the whole time."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0


def cores_while_speaking(samples: list[SpeakingCpu]) -> float:
    """Average share of one core over all the speaking in `samples` (long ones weigh more)."""
    wall = sum(s.wall_s for s in samples)
    return sum(s.cpu_s for s in samples) / wall if wall > 0 else 0.0


def release_to_text(rig: DictationRig, audio: np.ndarray, key: str, hold_s: float = 0.0) -> Workload:
    """Key release -> text delivered; the speaking (and `hold_s` of holding the key after the audio ends) is
    the untimed `prepare`."""
    return Workload(key, rig.release, prepare=lambda: rig.speak(audio, hold_s))


RELEASE_AFTER_SPEECH_S = 0.05  # people let go on their last word: the key comes up ~50 ms after its end


def release_hold_s(speech: Continuous) -> float:
    """How long the key stays down once the microphone has played `speech`, so that it comes up
    RELEASE_AFTER_SPEECH_S after the last speech sample (the audio ends `speech.trailing_s` after it)."""
    return max(0.0, RELEASE_AFTER_SPEECH_S - speech.trailing_s)


def continuous_release_to_text(rig: DictationRig, speech: Continuous, key: str) -> Workload:
    """Release to text for gap-free speech, released on the last word: nothing of the speech is left to
    hear after release."""
    return release_to_text(rig, speech.audio, key, hold_s=release_hold_s(speech))


def load_clip(path: Path) -> np.ndarray:
    from onevox.audio.files import load_audio

    return load_audio(path)
