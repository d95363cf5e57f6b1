"""Several stretches of speech of one dictation or file, decoded in order with the earlier text as context."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from onevox.asr.base import SpeechRecognizer, Transcript


def transcribe_segments(recognizer: SpeechRecognizer, segments: Iterable[np.ndarray], *,
                        prompt: str = "") -> list[Transcript]:
    """One transcript per segment; each segment's prompt is `prompt` plus the text decoded before it, so
    the model keeps names, spelling and sentence flow across pauses."""
    transcripts: list[Transcript] = []
    context = prompt.strip()
    for audio in segments:
        transcript = recognizer.transcribe(audio, prompt=context)
        transcripts.append(transcript)
        if transcript.text:
            context = f"{context} {transcript.text}".strip()
    return transcripts
