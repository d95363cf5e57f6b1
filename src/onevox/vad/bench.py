"""CPU cost of each VAD backend: `python -m onevox.vad.bench [FILE.wav] [--seconds N]`.

Three numbers per backend, each the best of a few repeats (the least disturbed by other processes):
one `speech_prob` call per frame; frames scored 100 ms at a time through `speech_probs` (what the
segmenter does); and the whole `SpeechSegmenter.push` path per 100 ms of audio.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from onevox.audio import SAMPLE_RATE
from onevox.config import VadConfig
from onevox.errors import AudioError
from onevox.vad.base import FrameClassifier
from onevox.vad.factory import create_detector
from onevox.vad.segmenter import SpeechSegmenter, score_frames

CHUNK = SAMPLE_RATE // 10  # 100 ms, the capture worker's usual read


@dataclass(frozen=True)
class FrameCost:
    backend: str
    frame_samples: int
    frames: int  # frames scored per repeat
    single_us: float  # CPU microseconds per frame, one speech_prob call each
    batched_us: float  # CPU microseconds per frame, scored 100 ms at a time
    segmenter_ms_per_100ms: float  # CPU milliseconds of SpeechSegmenter.push per 100 ms of audio

    @property
    def ms_per_100ms(self) -> float:
        """Scoring cost per 100 ms of audio on the batched path."""
        return self.batched_us * (CHUNK / self.frame_samples) / 1000


def _best_cpu(run: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def measure_frame_cost(detector: FrameClassifier, audio: np.ndarray, *, repeats: int = 5) -> FrameCost:
    size = detector.frame_samples
    whole = audio[:len(audio) // CHUNK * CHUNK].astype(np.float32)
    frames = whole[:len(whole) // size * size].reshape(-1, size)

    def single() -> None:
        detector.reset()
        for frame in frames:
            detector.speech_prob(frame)

    def batched() -> None:
        detector.reset()
        pending = 0
        for start in range(0, len(whole), CHUNK):
            end = (start + CHUNK) // size * size
            if end > pending:
                score_frames(detector, whole[pending:end])
                pending = end

    segmenter = SpeechSegmenter(detector, VadConfig())

    def segment() -> None:
        segmenter.reset()
        for start in range(0, len(whole), CHUNK):
            segmenter.push(whole[start:start + CHUNK])

    n = frames.shape[0]
    chunks = len(whole) // CHUNK
    return FrameCost(backend=detector.name, frame_samples=size, frames=n,
                     single_us=_best_cpu(single, repeats) / n * 1e6,
                     batched_us=_best_cpu(batched, repeats) / n * 1e6,
                     segmenter_ms_per_100ms=_best_cpu(segment, repeats) / chunks * 1e3)


def _load(path: str | None, seconds: float) -> np.ndarray:
    if path is None:  # cost does not depend on the content for Silero; noise exercises all paths
        noise = np.random.default_rng(0).standard_normal(int(seconds * SAMPLE_RATE))
        return (noise * 0.05).astype(np.float32)
    import soundfile

    audio: np.ndarray
    rate: int
    audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    if rate != SAMPLE_RATE:
        raise AudioError(f"{path}: the benchmark needs 16 kHz audio, got {rate} Hz")
    return audio[:, 0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", help="16 kHz audio to score (default: 10 s of noise)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    audio = _load(args.file, args.seconds)
    print(f"{'backend':8s} {'frame':>6s} {'single us/fr':>13s} {'batched us/fr':>14s} "
          f"{'ms/100ms':>9s} {'segmenter ms/100ms':>19s}")
    for backend in ("silero", "webrtc", "energy"):
        detector = create_detector(VadConfig(backend=backend))
        assert detector is not None
        cost = measure_frame_cost(detector, audio, repeats=args.repeats)
        print(f"{cost.backend:8s} {cost.frame_samples:6d} {cost.single_us:13.1f} {cost.batched_us:14.1f} "
              f"{cost.ms_per_100ms:9.3f} {cost.segmenter_ms_per_100ms:19.3f}")


if __name__ == "__main__":
    main()
