"""Several stretches of speech of one dictation or file, decoded in order with the earlier text as context."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from onevox.asr.base import SpeechRecognizer, Transcript

# decodes one segment: (audio, prompt, language or None) -> its transcript
Decode = Callable[[np.ndarray, str, str | None], Transcript]


def transcribe_segments(recognizer: SpeechRecognizer, segments: Iterable[np.ndarray], *,
                        prompt: str = "", language: str | None = None,
                        decode: Decode | None = None) -> list[Transcript]:
    """One transcript per segment; each segment's prompt is `prompt` plus the text decoded before it, so
    the model keeps names, spelling and sentence flow across pauses. The language (`language`, else that
    of the first segment with text, detected when the recognizer detects) is kept for every later segment.
    `decode` replaces `recognizer.transcribe` (e.g. to time the words as well)."""
    transcripts: list[Transcript] = []
    context = prompt.strip()
    for audio in segments:
        if decode is None:
            transcript = recognizer.transcribe(audio, prompt=context, language=language)
        else:
            transcript = decode(audio, context, language)
        transcripts.append(transcript)
        if transcript.text:
            context = f"{context} {transcript.text}".strip()
            language = language or transcript.language or None
    return transcripts
