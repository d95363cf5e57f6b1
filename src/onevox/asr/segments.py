"""Several stretches of speech of one dictation or file, decoded in order with the earlier text as context."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from onevox.asr.base import SpeechRecognizer, Transcript


def transcribe_segments(recognizer: SpeechRecognizer, segments: Iterable[np.ndarray], *,
                        prompt: str = "") -> list[Transcript]:
    """One transcript per segment; each segment's prompt is `prompt` plus the text decoded before it, so
    the model keeps names, spelling and sentence flow across pauses. The language of the first segment
    with text (detected, when the recognizer detects) is kept for every later segment."""
    transcripts: list[Transcript] = []
    context = prompt.strip()
    language: str | None = None
    for audio in segments:
        transcript = recognizer.transcribe(audio, prompt=context, language=language)
        transcripts.append(transcript)
        if transcript.text:
            context = f"{context} {transcript.text}".strip()
            language = language or transcript.language or None
    return transcripts
