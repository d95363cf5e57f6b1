"""Offline transcription of whole recordings: file -> VAD -> Whisper -> post-processing.

`onevox transcribe` and the benchmarks use this; the daemon runs the same stages on live audio. Unlike a live
dictation, a file is there in full, so the VAD's segments are merged back into spans of up to
`vad.max_segment_s` across short pauses: the model then hears whole sentences with their context (as
faster-whisper's VAD mode does), which is both more accurate and fewer decodes. The VAD still decides what
is never decoded at all: silence, noise, long gaps.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from onevox.asr.base import SpeechRecognizer, Transcript, WordRecognizer
from onevox.asr.segments import transcribe_segments
from onevox.asr.timed import transcribe_timed
from onevox.audio import SAMPLE_RATE
from onevox.audio.files import load_audio
from onevox.config import Config
from onevox.text.postprocess import join_segments, postprocess
from onevox.text.subtitles import SENTENCE_ENDS, Cue, group_words
from onevox.vad import FrameClassifier, SpeechSegment, create_detector, find_speech

MAX_GAP_S = 2.0  # speech segments closer than this are decoded together


@dataclass(frozen=True)
class SegmentText:
    start_s: float  # where the speech segment starts in the file
    end_s: float  # where it ends
    text: str  # the model's text for it, before post-processing
    fallback: bool  # the short window's guard fired and the full window was decoded


@dataclass(frozen=True)
class FileResult:
    file: str  # the path as given
    text: str  # post-processed text of the whole file ("" when there was no speech)
    audio_s: float  # length of the file's audio
    latency_ms: float  # time spent in the model for this file (the model was already warm)
    segments: tuple[SegmentText, ...]  # the speech segments the VAD found, with their text
    model: str  # the model that decoded it
    language: str = ""  # the language it was decoded in (detected from its first speech, or configured)
    language_prob: float | None = None  # the detection's probability; None when the language was given
    cues: tuple[Cue, ...] = ()  # the text in timed pieces (subtitle cues); only when asked for (`timed`)
    words: tuple[Cue, ...] = ()  # each word as the model wrote it, timed (`timed`, and a word-timing model)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "text": self.text,
            "audio_s": round(self.audio_s, 3),
            "latency_ms": round(self.latency_ms, 1),
            "segments": [{"start": round(s.start_s, 3), "end": round(s.end_s, 3), "text": s.text,
                          "fallback": s.fallback} for s in self.segments],
            "model": self.model,
            "language": self.language,
            "language_prob": None if self.language_prob is None else round(self.language_prob, 3),
            "cues": [{"start": c.start_s, "end": c.end_s, "text": c.text} for c in self.cues],
        }


@dataclass(frozen=True)
class FileOptions:
    """How one file is transcribed (the defaults: as `onevox transcribe` prints plain text)."""

    timed: bool = False  # also time the text (FileResult.cues): each word is aligned, which costs a little
    prompt: str = ""  # earlier text or names that prime the model, as in model.initial_prompt
    language: str | None = None  # the spoken language (None: as configured, or detected)
    progress: Callable[[float], None] | None = field(default=None, compare=False)  # told the share done


class FileTranscriber:
    """Loads the model once (and warms it up); then transcribes any number of files or arrays."""

    def __init__(self, config: Config, *, recognizer: SpeechRecognizer | None = None,
                 detector: FrameClassifier | None = None) -> None:
        self.config = config
        if recognizer is None:
            from onevox.asr.whisper import load_recognizer

            recognizer = load_recognizer(config.model)
            recognizer.warm_up()
        self.recognizer = recognizer
        self._detector = detector if detector is not None else create_detector(config.vad)
        # a file's text is printed, not typed after other text: no trailing space
        self._post = dataclasses.replace(config.post_processing, trailing_space=False)

    def transcribe_file(self, path: str | os.PathLike[str], options: FileOptions | None = None) -> FileResult:
        """Raises AudioError naming the file when it cannot be read."""
        return self.transcribe_loaded(os.fspath(path), load_audio(path), options)

    def transcribe_loaded(self, file: str, audio: np.ndarray,
                          options: FileOptions | None = None) -> FileResult:
        """Like `transcribe_file` for audio already loaded (16 kHz mono float32)."""
        run = self._run(audio, options or FileOptions())
        language = run.language
        return FileResult(file=file, text=run.text, audio_s=audio.size / SAMPLE_RATE,
                          latency_ms=run.latency_ms, segments=run.segments, model=self.recognizer.model_name,
                          language=language.language if language else "",
                          language_prob=language.language_prob if language else None, cues=run.cues,
                          words=run.words)

    def transcribe_audio(self, audio: np.ndarray) -> tuple[str, float]:
        """(post-processed text, model milliseconds) for 16 kHz mono float32 audio."""
        run = self._run(audio, FileOptions())
        return run.text, run.latency_ms

    def _run(self, audio: np.ndarray, options: FileOptions) -> _Run:
        audio = np.asarray(audio, dtype=np.float32)
        if self._detector is not None:
            self._detector.reset()
        max_span = round(self.config.vad.max_segment_s * SAMPLE_RATE)
        spans = merge_spans(find_speech(audio, self.config.vad, self._detector), max_span,
                            round(MAX_GAP_S * SAMPLE_RATE))
        if not spans:
            if options.progress:
                options.progress(1.0)
            return _Run("", 0.0, (), None, (), ())
        start = time.perf_counter()
        cues: list[Cue] = []
        words: list[Cue] = []
        done: list[tuple[int, int]] = []

        def decode(piece: np.ndarray, context: str, language: str | None) -> Transcript:
            lo, hi = spans[len(done)]
            done.append((lo, hi))
            transcript, span_cues, span_words = self._decode(piece, lo / SAMPLE_RATE, context, language,
                                                             options.timed)
            cues.extend(span_cues)
            words.extend(span_words)
            if options.progress:  # the last span's end is the end of the file (the rest is silence)
                options.progress(1.0 if hi == spans[-1][1] else hi / audio.size)
            return transcript

        transcripts = transcribe_segments(self.recognizer, (audio[lo:hi] for lo, hi in spans),
                                          prompt=options.prompt, language=options.language, decode=decode)
        latency_ms = (time.perf_counter() - start) * 1000
        segments = tuple(SegmentText(lo / SAMPLE_RATE, hi / SAMPLE_RATE, t.text, t.fallback)
                         for (lo, hi), t in zip(spans, transcripts, strict=True))
        chosen = next((t for t in transcripts if t.text), transcripts[0])  # the segment that set the language
        spoken = chosen.language or self.config.model.language
        texts = [postprocess(t.text, self._post, spoken) for t in transcripts]
        return _Run(join_segments([t for t in texts if t]), latency_ms, segments, chosen,
                    self._post_cues(cues, spoken), tuple(words))

    def _post_cues(self, cues: list[Cue], language: str) -> tuple[Cue, ...]:
        """Cues post-processed like the text, capitalised only where a sentence starts (a cue may start
        mid-sentence)."""
        mid_sentence = dataclasses.replace(self._post, capitalize=False)
        out: list[Cue] = []
        for cue in cues:
            starts = not out or out[-1].text.endswith(SENTENCE_ENDS)
            text = postprocess(cue.text, self._post if starts else mid_sentence, language)
            if text:
                out.append(Cue(cue.start_s, cue.end_s, text))
        return tuple(out)

    def _decode(self, audio: np.ndarray, offset_s: float, prompt: str, language: str | None,
                timed: bool) -> tuple[Transcript, list[Cue], list[Cue]]:
        """One span: its transcript, its cues (timed from the words when the recognizer times them, else
        the whole span as one cue) and its timed words (none when the recognizer does not time them)."""
        if timed and isinstance(self.recognizer, WordRecognizer):
            words = transcribe_timed(self.recognizer, audio, prompt=prompt, language=language)
            transcript = Transcript(text=words.text, audio_s=words.audio_s, model=self.recognizer.model_name,
                                    timings_ms=words.timings_ms, fallback=words.fallback,
                                    language=words.language, language_prob=words.language_prob)
            cues = [Cue(round(c.start_s + offset_s, 3), round(c.end_s + offset_s, 3), c.text)
                    for c in group_words(words.words)]
            timed_words = [Cue(round(w.start_s + offset_s, 3), round(w.end_s + offset_s, 3), w.text.strip())
                           for w in words.words]
            return transcript, cues, timed_words
        transcript = self.recognizer.transcribe(audio, prompt=prompt, language=language)
        end_s = offset_s + audio.size / SAMPLE_RATE
        return transcript, [Cue(offset_s, end_s, transcript.text)] if timed and transcript.text else [], []


@dataclass(frozen=True)
class _Run:
    text: str
    latency_ms: float
    segments: tuple[SegmentText, ...]
    language: Transcript | None  # the transcript whose language the file was decoded in
    cues: tuple[Cue, ...]
    words: tuple[Cue, ...]


def merge_spans(segments: list[SpeechSegment], max_span: int, max_gap: int) -> list[tuple[int, int]]:
    """(start, end) sample ranges covering `segments`, joining neighbours whose gap is at most `max_gap`
    while the joined range stays within `max_span` samples. Segments are taken in order; a segment longer
    than `max_span` stays on its own."""
    spans: list[tuple[int, int]] = []
    for seg in segments:
        if spans and seg.start - spans[-1][1] <= max_gap and seg.end - spans[-1][0] <= max_span:
            spans[-1] = (spans[-1][0], seg.end)
        else:
            spans.append((seg.start, seg.end))
    return spans
