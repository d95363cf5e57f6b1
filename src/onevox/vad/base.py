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
