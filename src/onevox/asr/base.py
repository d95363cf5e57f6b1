"""The interface of the speech recognition stage."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Transcript:
    text: str  # raw model text, before post-processing
    audio_s: float  # seconds of audio decoded
    model: str  # model name or path
    timings_ms: dict[str, float] = field(default_factory=dict)  # e.g. features, encode, decode, total
    no_speech_prob: float = 0.0  # the model's own belief that there was no speech
    fallback: bool = False  # True when the short window's guard fired and the full window was used
    language: str = ""  # Whisper code the text was decoded in ("" when the recognizer does not say)
    language_prob: float | None = None  # the detection's confidence; None when the language was given


class SpeechRecognizer(Protocol):
    """Turns 16 kHz mono float32 audio into text. One instance owns one loaded model; not thread-safe:
    the daemon calls it from its single ASR worker."""

    model_name: str

    def transcribe(self, audio: np.ndarray, *, prompt: str = "", language: str | None = None) -> Transcript:
        """Decode one stretch of speech. `prompt` carries earlier text of the same dictation; `language`
        fixes the language (the one detected from the dictation's first speech), None leaves it to the
        recognizer's configuration (a fixed language, or detection)."""
        ...

    def warm_up(self) -> None:
        """Run one small inference so the first real one is not slow."""
        ...


@dataclass(frozen=True)
class Word:
    """One word of a decode and where it lies in the audio that was decoded."""

    text: str  # as the model wrote it: the space before it (when it has one) and its punctuation
    start_s: float
    end_s: float


@dataclass(frozen=True)
class TimedTranscript:
    words: tuple[Word, ...]  # empty when the model heard no speech
    audio_s: float
    timings_ms: dict[str, float] = field(default_factory=dict)
    fallback: bool = False
    language: str = ""  # as in Transcript
    language_prob: float | None = None
    doubt: str | None = None  # why a short-window decode was not trusted (asked not to fall back)

    @property
    def text(self) -> str:
        return join_words(self.words)


@runtime_checkable
class PromptedRecognizer(Protocol):
    """A recognizer primed with an initial prompt and vocabulary that a dictation may change (a profile)."""

    def use_context(self, initial_prompt: str | None = None, vocabulary: Sequence[str] | None = None) -> None:
        """The prompt and vocabulary the following decodes use; None: the configured ones."""
        ...


@runtime_checkable
class WordRecognizer(SpeechRecognizer, Protocol):
    """A recognizer that also says when each word was spoken: what incremental decoding of a segment that
    is still growing needs (it keeps the words two decodes agree on and decodes only the audio after them)."""

    def transcribe_words(self, audio: np.ndarray, *, prompt: str = "", language: str | None = None,
                         fallback: bool = True, timed: bool = True, speech: bool = False,
                         known_s: float = 0.0, abandon: Callable[[], bool] | None = None) -> TimedTranscript:
        """Decode up to 30 s of audio in one window, with each word's start and end (`timed` False: no
        times). `fallback` False: a decode the recognizer doubts comes back empty with `doubt` set instead
        of being redone at a higher cost. `speech`: the caller knows the audio holds speech (its voice
        activity detector heard it), so the model's own doubt that there is any is no reason to doubt.
        `known_s`: the words of the audio's first `known_s` seconds are known (the prompt ends with them):
        they are heard as context but not written again, so only what follows costs decoding.
        `abandon`: asked while decoding; once it returns True the call gives up, returning no words and
        `doubt` "abandoned" at once, and the next call does not wait for the decode it left behind."""
        ...


@runtime_checkable
class RemoteRecognizer(SpeechRecognizer, Protocol):
    """A recognizer that sends the audio to a server: status tells the user where it goes."""

    url: str

    def status(self) -> dict[str, Any]:
        """Where the audio goes, and how the server has been doing (JSON-ready)."""
        ...

    def close(self) -> None:
        """Close the connection to the server (the engine is not used again)."""
        ...


@runtime_checkable
class VocabularyRecognizer(SpeechRecognizer, Protocol):
    """A recognizer whose decoder can be primed with words learned while it runs (from corrections)."""

    def set_learned_words(self, words: Sequence[str]) -> None:
        """Prefer these spellings from the next decode on, besides the configured `[model] vocabulary`."""
        ...


def join_words(words: Sequence[Word]) -> str:
    """The text of consecutive words ("cold" + "-hearted" stays "cold-hearted")."""
    return "".join(word.text for word in words).strip()
