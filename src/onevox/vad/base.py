"""The interface every voice activity detector implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol

import numpy as np


class FrameClassifier(Protocol):
    """Scores fixed-size frames of 16 kHz mono float32 audio for speech, keeping state between calls."""

    name: str
    frame_samples: int  # samples per frame this detector wants (e.g. 512 for Silero at 16 kHz)

    def speech_prob(self, frame: np.ndarray) -> float:
        """Probability (0..1) that `frame` (exactly `frame_samples` long) holds speech."""
        ...

    def speech_probs(self, audio: np.ndarray) -> np.ndarray:
        """float32 probabilities of the consecutive frames in `audio` (a multiple of `frame_samples` long):
        the same numbers as `speech_prob` frame by frame, in one call (the segmenter's path, with fewer
        calls into native code). FrameByFrame gives detectors that score one frame at a time this method."""
        ...

    def reset(self) -> None:
        """Forget the state carried from earlier frames (a new dictation starts)."""
        ...


# scoring many frames per call is no longer optional: every FrameClassifier does it
BatchFrameClassifier = FrameClassifier


class FrameByFrame(ABC):
    """`speech_probs` for a detector that can only score one frame per call."""

    frame_samples: int

    @abstractmethod
    def speech_prob(self, frame: np.ndarray) -> float: ...

    def speech_probs(self, audio: np.ndarray) -> np.ndarray:
        frames = audio.reshape(-1, self.frame_samples)
        return np.fromiter((self.speech_prob(f) for f in frames), np.float32, frames.shape[0])
