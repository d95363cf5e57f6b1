"""The interface every voice activity detector implements."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class FrameClassifier(Protocol):
    """Scores fixed-size frames of 16 kHz mono float32 audio for speech, keeping state between calls."""

    name: str
    frame_samples: int  # samples per frame this detector wants (e.g. 512 for Silero at 16 kHz)

    def speech_prob(self, frame: np.ndarray) -> float:
        """Probability (0..1) that `frame` (exactly `frame_samples` long) holds speech."""
        ...

    def reset(self) -> None:
        """Forget the state carried from earlier frames (a new dictation starts)."""
        ...


class BatchFrameClassifier(FrameClassifier, Protocol):
    """A FrameClassifier that can also score many consecutive frames in one call.

    Optional: the segmenter uses `speech_probs` when a detector has it (fewer calls into native code) and
    falls back to `speech_prob` frame by frame otherwise. Both give the same numbers for the same audio.
    """

    def speech_probs(self, audio: np.ndarray) -> np.ndarray:
        """Probabilities for consecutive frames; `len(audio)` is a multiple of `frame_samples`."""
        ...
