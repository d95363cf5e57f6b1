"""Cut a stream of 16 kHz audio into speech segments as it arrives.

The capture worker pushes chunks of any size; whole frames are scored by the detector (many frames per
call, through `speech_probs`) and stepped through a small state machine:

- silence -> speech when a frame's probability reaches `threshold`;
- speech -> silence when frames stay below `threshold - 0.15` for `min_silence_ms` (hysteresis: frames in
  between neither start nor break a pause);
- bursts shorter than `min_speech_ms` are dropped; kept segments get `speech_pad_ms` on both sides (never
  overlapping the previous segment);
- once a segment has run for `LONG_SEGMENT_S`, a shorter pause (`LONG_SEGMENT_SILENCE_MS`) ends it too:
  a long stretch of speech without a full pause is then decoded while the user goes on speaking, instead of
  all of it after release (breaths between sentences are 150-400 ms);
- speech longer than `max_segment_s` is split at its quietest moment (lowest smoothed probability in the
  later half), not at a fixed length, so a word is not cut in two unless there is no pause at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from onevox.audio import SAMPLE_RATE
from onevox.config import VadConfig
from onevox.vad.base import FrameClassifier
from onevox.vad.factory import create_detector
from onevox.vad.frames import as_mono_float32
from onevox.vad.window import SampleWindow

HYSTERESIS = 0.15  # a pause needs frames this far below the threshold (as Silero's reference code does)
_SLACK_S = 2.0  # window headroom beyond the longest segment, for the chunks pushed in between
_SMOOTH = np.array([0.25, 0.5, 0.25], np.float32)
LONG_SEGMENT_S = 6.0  # an open segment this long...
LONG_SEGMENT_SILENCE_MS = 200  # ...is also closed by a pause this long (never more than min_silence_ms)


@dataclass(frozen=True)
class SpeechSegment:
    start: int  # first sample, counted at 16 kHz from the start of the stream
    end: int  # one past the last sample
    audio: np.ndarray = field(repr=False, compare=False)  # the samples [start, end), float32

    @property
    def duration_s(self) -> float:
        return (self.end - self.start) / SAMPLE_RATE


@dataclass(frozen=True)
class _Limits:
    """VadConfig in samples, with the padding capped so that padded segments fit in max_segment."""

    threshold: float
    silence_below: float
    min_speech: int
    min_silence: int
    pad: int
    max_segment: int
    max_speech: int  # unpadded speech longer than this is split
    long_speech: int  # speech longer than this is also ended by a `short_silence` pause
    short_silence: int

    @classmethod
    def of(cls, cfg: VadConfig, frame: int) -> _Limits:
        ms = SAMPLE_RATE // 1000
        max_segment = int(cfg.max_segment_s * SAMPLE_RATE)
        pad = min(cfg.speech_pad_ms * ms, max_segment // 4)
        return cls(threshold=cfg.threshold, silence_below=max(cfg.threshold - HYSTERESIS, 0.0),
                   min_speech=cfg.min_speech_ms * ms, min_silence=cfg.min_silence_ms * ms, pad=pad,
                   max_segment=max_segment, max_speech=max_segment - 2 * pad - frame,
                   long_speech=int(LONG_SEGMENT_S * SAMPLE_RATE),
                   short_silence=min(LONG_SEGMENT_SILENCE_MS, cfg.min_silence_ms) * ms)


def score_frames(detector: FrameClassifier, audio: np.ndarray) -> np.ndarray:
    """float32 probabilities of the consecutive frames in `audio`, in one call to the detector."""
    return np.asarray(detector.speech_probs(audio), np.float32)


class SpeechSegmenter:
    """Streaming speech segmentation for one dictation at a time; `reset()` (or `flush()`) starts anew.

    With `detector` None (VAD off) all audio is speech, cut into max_segment_s pieces.
    """

    def __init__(self, detector: FrameClassifier | None, cfg: VadConfig) -> None:
        self.detector = detector
        self.cfg = cfg
        self._frame = detector.frame_samples if detector is not None else 1
        self._lim = _Limits.of(cfg, self._frame)
        slack = int(_SLACK_S * SAMPLE_RATE) + self._lim.min_silence
        self._window = SampleWindow(self._lim.max_segment + 2 * self._lim.pad + slack)
        self._probs = np.zeros(self._lim.max_speech // self._frame + 8, np.float32)
        self.reset()

    def reset(self) -> None:
        """Forget the stream: the next push is sample 0 of a new one."""
        self._window.clear()
        self._scored = 0  # absolute index of the first sample not yet scored
        self._last_end = 0  # end of the last segment emitted
        self._triggered = False
        self._speech_start = 0
        self._silence_start: int | None = None
        self._voiced_end = 0  # end of the last frame scored as speech (probability >= threshold)
        self._probs_frame = 0  # frame index of self._probs[0]
        self._probs_len = 0
        if self.detector is not None:
            self.detector.reset()

    @property
    def in_speech(self) -> bool:
        """Whether speech is going on at the end of the audio pushed so far (not in a pause)."""
        if self.detector is None:
            return self._window.end > 0
        return self._triggered and self._silence_start is None

    @property
    def open_start(self) -> int | None:
        """Where the segment still open begins (padding included), or None between segments. A pause in
        progress does not close it: that takes `min_silence_ms`."""
        if self.detector is None:
            return self._last_end
        if not self._triggered:
            return None
        return max(self._speech_start - self._lim.pad, self._last_end, 0)

    @property
    def voiced_end(self) -> int:
        """Where the last frame heard as speech (at or above the threshold) ends. `in_speech` stays true
        through frames just under it (the hysteresis that keeps a word from being cut); this does not."""
        return self._window.end if self.detector is None else self._voiced_end

    @property
    def samples_seen(self) -> int:
        return self._window.end

    def push(self, audio: np.ndarray) -> list[SpeechSegment]:
        """Add audio; returns the segments that ended within it."""
        audio = as_mono_float32(audio)
        out: list[SpeechSegment] = []
        if audio.shape[0] == 0:
            return out
        self._window.append(audio)
        if self.detector is None:
            self._cut_fixed(out)
            return out
        frames = (self._window.end - self._scored) // self._frame
        if frames:
            end = self._scored + frames * self._frame
            probs = score_frames(self.detector, self._window.view(self._scored, end))
            for prob in probs.tolist():
                self._step(self._scored, prob, out)
                self._scored += self._frame
        self._trim()
        return out

    def flush(self) -> list[SpeechSegment]:
        """End of the stream: score the last partial frame, close any open segment, then reset."""
        out: list[SpeechSegment] = []
        stream_end = self._window.end
        if self.detector is None:
            self._emit(self._last_end, stream_end, out)
        else:
            tail = stream_end - self._scored
            if tail > 0:
                frame = np.zeros(self._frame, np.float32)
                frame[:tail] = self._window.view(self._scored, stream_end)
                self._step(self._scored, self.detector.speech_prob(frame), out)
            if self._triggered:
                speech_end = self._silence_start if self._silence_start is not None else stream_end
                self._close(speech_end, stream_end, out)
        self.reset()
        return out

    def _step(self, start: int, prob: float, out: list[SpeechSegment]) -> None:
        lim = self._lim
        end = start + self._frame
        if prob >= lim.threshold:
            self._voiced_end = end
        if not self._triggered:
            if prob >= lim.threshold:
                self._triggered = True
                self._speech_start = start
                self._silence_start = None
                self._probs_frame, self._probs_len = start // self._frame, 0
                self._remember(prob)
            return
        self._remember(prob)
        if prob >= lim.threshold:
            self._silence_start = None
        elif prob < lim.silence_below and self._silence_start is None:
            self._silence_start = start
        pause = self._silence_start
        if pause is not None and end - pause >= self._min_silence(pause):
            self._close(pause, end, out)
        elif end - self._speech_start > lim.max_speech:
            self._split(out)

    def _min_silence(self, silence_start: int) -> int:
        """The pause that ends the open segment: shorter once the segment is long."""
        if silence_start - self._speech_start > self._lim.long_speech:
            return self._lim.short_silence
        return self._lim.min_silence

    def _remember(self, prob: float) -> None:
        if self._probs_len == self._probs.shape[0]:  # cannot happen with the split rule; kept as a guard
            self._probs = np.concatenate([self._probs, np.zeros_like(self._probs)])
        self._probs[self._probs_len] = prob
        self._probs_len += 1

    def _close(self, speech_end: int, now: int, out: list[SpeechSegment]) -> None:
        self._triggered = False
        if speech_end - self._speech_start >= self._lim.min_speech:
            self._emit(self._speech_start - self._lim.pad, min(speech_end + self._lim.pad, now), out)

    def _split(self, out: list[SpeechSegment]) -> None:
        """Cut the running segment in the middle of its quietest frame in the later half."""
        first = (self._speech_start + self._lim.max_speech // 2) // self._frame - self._probs_frame
        probs = self._probs[:self._probs_len]
        # [1, 2, 1] smoothing: a pause of several frames beats a one-frame dip inside a word
        smooth = np.convolve(np.pad(probs, 1, mode="edge"), _SMOOTH, mode="valid")
        quietest = first + int(np.argmin(smooth[first:]))
        cut = (self._probs_frame + quietest) * self._frame + self._frame // 2
        self._emit(self._speech_start - self._lim.pad, cut, out)
        self._speech_start = cut
        if self._silence_start is not None and self._silence_start < cut:
            self._silence_start = cut
        keep = self._probs_len - quietest
        self._probs[:keep] = self._probs[quietest:self._probs_len]
        self._probs_frame += quietest
        self._probs_len = keep

    def _cut_fixed(self, out: list[SpeechSegment]) -> None:
        while self._window.end - self._last_end >= self._lim.max_segment:
            self._emit(self._last_end, self._last_end + self._lim.max_segment, out)
        self._window.drop_before(self._last_end)

    def _emit(self, start: int, end: int, out: list[SpeechSegment]) -> None:
        start = max(start, self._last_end, 0)
        end = min(end, start + self._lim.max_segment, self._window.end)
        if end > start:
            out.append(SpeechSegment(start, end, self._window.copy(start, end)))
            self._last_end = end

    def _trim(self) -> None:
        begin = self._speech_start if self._triggered else self._scored
        self._window.drop_before(max(begin - self._lim.pad, self._last_end))


def find_speech(audio: np.ndarray, cfg: VadConfig,
                detector: FrameClassifier | None = None) -> list[SpeechSegment]:
    """Speech segments of a whole recording. Without `detector`, one is made from `cfg` (none when the
    backend is "off": then the audio is cut only at max_segment_s)."""
    if detector is None:
        detector = create_detector(cfg)
    segmenter = SpeechSegmenter(detector, cfg)
    return segmenter.push(audio) + segmenter.flush()
