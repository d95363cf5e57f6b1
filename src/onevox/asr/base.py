"""The interface of the speech recognition stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Transcript:
    text: str  # raw model text, before post-processing
    audio_s: float  # seconds of audio decoded
    model: str  # model name or path
    timings_ms: dict[str, float] = field(default_factory=dict)  # e.g. features, encode, decode, total
    no_speech_prob: float = 0.0  # the model's own belief that there was no speech
    fallback: bool = False  # True when the short window's guard fired and the full window was used


class SpeechRecognizer(Protocol):
    """Turns 16 kHz mono float32 audio into text. One instance owns one loaded model; not thread-safe:
    the daemon calls it from its single ASR worker."""

    model_name: str

    def transcribe(self, audio: np.ndarray, *, prompt: str = "") -> Transcript:
        """Decode one stretch of speech. `prompt` carries earlier text of the same dictation."""
        ...

    def warm_up(self) -> None:
        """Run one small inference so the first real one is not slow."""
        ...
