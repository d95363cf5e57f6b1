"""Continuous speech of a chosen length, built from real clips, for the long-dictation benchmarks (issue 9).

A person who talks for a minute without stopping gives the recogniser no pause to decode in. To measure
that, real speech clips (a directory with `manifest.jsonl`, such as tests/data/speech) are made gap-free:

- each clip is scored with the project's Silero VAD (32 ms frames; below `SPEECH_THRESHOLD` is non-speech)
  and by level (10 ms windows; below `quiet_db` is quiet: near the noise floor, far below the speech);
- every run of non-speech frames loses its quiet middle: what is kept is the sound next to the speech
  frames on each side (up to `_PROTECT_S`: Silero hears a soft onset such as "and" or a word's fading end a
  frame or two late) and `_KEEP_S` of quiet after and before it. The clip's leading and trailing quiet is
  trimmed to `EDGE_PAD_S`. Every cut is crossfaded over `_FADE_S`: no click;
- the clips are joined back to back, crossfaded the same way, and the result is scored and cut again (a
  seam between two speakers can sound like a longer pause than either clip's edge).

What remains: no silence (quiet, and non-speech to Silero) longer than MAX_PAUSE_S (100 ms) between the
first and the last sound (`longest_silence_s`). Silero may still call up to ~200 ms non-speech where
there is sound it misses (a breath, a soft onset; `longest_pause_s`): that is kept, as cutting it could
cut words, and stays below the daemon's own 250 ms early-decode pause, so the daemon gets no pause to
decode in either.

Clips are never cut inside a word, so the reference is exactly the clips' texts joined. Lengths come out
close to the request by choosing which clips to join (the subset of clips whose joined length is
nearest), not by cutting the last one; `Continuous.duration_s` is the real length. Deterministic.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from onevox.audio import SAMPLE_RATE

if TYPE_CHECKING:
    from onevox.vad.silero import SileroVad

LENGTHS_S = (2.0, 5.0, 15.0, 30.0, 60.0)  # what the benchmarks build: a 1-3 s utterance, then the issue's
SPEECH_THRESHOLD = 0.5  # the [vad] threshold default: a frame scoring below it counts as a pause
MAX_PAUSE_S = 0.1  # the limit: no silence longer than this may remain
EDGE_PAD_S = 0.02  # quiet kept before a clip's first sound and after its last
_KEEP_S = 0.02  # quiet kept after the sound ending a word and before the sound starting the next
_FADE_S = 0.005  # crossfade at every cut and join
_MAX_PASSES = 4  # shortening can shift Silero's frames; re-score the result until no long pause is left
_WINDOW = 160  # samples (10 ms): the resolution of the energy rule
_FLOOR_PERCENTILE = 5  # the noise floor: this percentile of the 10 ms window levels
_ABOVE_FLOOR_DB = 6.0  # quiet is at most this far above the noise floor ...
_BELOW_SPEECH_DB = 20.0  # ... or at least this far below the speech level
_QUIET_RUN = 3  # quiet windows in a row (30 ms) that end the sound around a speech frame
_PROTECT_S = 0.1  # sound kept next to a speech frame at most: Silero's lag on soft onsets and word ends


@dataclass(frozen=True)
class SpeechClip:
    """One speech clip of the directory, pauses already shortened."""

    id: str
    text: str  # the manifest's reference
    alt_text: str  # the manifest's spoken-form alternative ("" when it has none)
    audio: np.ndarray  # 16 kHz mono float32
    quiet_db: float  # the source clip's quiet level (`quiet_db`): cuts are made below it

    @property
    def duration_s(self) -> float:
        return self.audio.size / SAMPLE_RATE


@dataclass(frozen=True)
class Continuous:
    """Gap-free speech and what was said."""

    audio: np.ndarray  # 16 kHz mono float32, sound to within EDGE_PAD_S of both ends
    clips: tuple[SpeechClip, ...]  # in the order they are spoken
    quiet_below: np.ndarray  # per sample: the level (dB) below which it is quiet (its clip's `quiet_db`)

    @property
    def duration_s(self) -> float:
        return self.audio.size / SAMPLE_RATE

    @property
    def reference(self) -> str:
        return " ".join(c.text for c in self.clips)

    @property
    def alt_reference(self) -> str:
        """The reference with each clip's spoken-form alternative where it has one."""
        return " ".join(c.alt_text or c.text for c in self.clips)

    @property
    def trailing_s(self) -> float:
        """Audio after the last sound (what the microphone still hears once the words end)."""
        return EDGE_PAD_S


def release_key(length_s: float) -> str:
    """The onevox.bench.targets key of release to text at this length, e.g. "release_to_text_cont_15s"."""
    return f"release_to_text_cont_{length_s:g}s"


class SpeechClipsMissing(FileNotFoundError):
    """The directory holds no manifest.jsonl or misses a clip it names."""


def speech_probs(audio: np.ndarray) -> np.ndarray:
    """Silero's probability for each whole 32 ms frame of `audio`, from a fresh state."""
    from onevox.vad.silero import FRAME

    vad = _vad()
    vad.reset()
    usable = audio[: audio.size - audio.size % FRAME]
    return vad.speech_probs(np.ascontiguousarray(usable, dtype=np.float32))


def longest_pause_s(audio: np.ndarray) -> float:
    """The longest run of Silero non-speech frames strictly inside `audio` (after its first and before its
    last speech frame), in seconds: what the VAD hears as a pause."""
    from onevox.vad.silero import FRAME

    runs = _pause_runs(speech_probs(audio) >= SPEECH_THRESHOLD)
    return max((b - a for a, b in runs), default=0) * FRAME / SAMPLE_RATE


def longest_silence_s(audio: np.ndarray, quiet_below: np.ndarray) -> float:
    """The longest stretch between the first and the last sound of `audio` that is both quiet (10 ms
    windows) and non-speech to Silero, in seconds: silence between words. (Quiet alone is not enough: a
    loud speaker's soft syllables can fall below the quiet level while Silero rightly hears speech.)"""
    from onevox.vad.silero import FRAME

    quiet = _quiet_windows(audio, quiet_below)
    frames = speech_probs(audio) >= SPEECH_THRESHOLD
    at = np.minimum(np.arange(quiet.size) * _WINDOW // FRAME, max(frames.size - 1, 0))
    silent = quiet & ~frames[at] if frames.size else quiet
    if silent.all():
        return 0.0
    first, last = int(np.argmax(~silent)), silent.size - int(np.argmax(~silent[::-1]))
    longest = run = 0
    for is_silent in silent[first:last]:
        run = run + 1 if is_silent else 0
        longest = max(longest, run)
    return longest * _WINDOW / SAMPLE_RATE


def build(speech_dir: Path, target_s: float) -> Continuous:
    """Gap-free speech from the clips of `speech_dir` whose joined length is nearest `target_s`."""
    clips = load_clips(speech_dir)
    chosen = choose(clips, target_s)
    # Silero hears a seam between two speakers differently from either clip's own edges: score it again,
    # each clip's stretch with its own noise floor
    fade = _fade_samples()
    levels = np.concatenate([np.full(c.audio.size - (fade if i else 0), c.quiet_db, np.float32)
                             for i, c in enumerate(chosen)])
    audio, levels = shorten_pauses(join([c.audio for c in chosen]), levels)
    return Continuous(audio=audio, clips=chosen, quiet_below=levels)


def choose(clips: tuple[SpeechClip, ...], target_s: float) -> tuple[SpeechClip, ...]:
    """The subset of `clips` (kept in their order) whose joined length is nearest `target_s`; on a tie the
    one with fewer clips, then the earliest. The corpus is a dozen clips, so every subset is tried."""
    best: tuple[float, int, tuple[int, ...]] | None = None
    for n in range(1, len(clips) + 1):
        for idx in itertools.combinations(range(len(clips)), n):
            length = sum(clips[i].audio.size for i in idx) - (n - 1) * _fade_samples()
            key = (abs(length / SAMPLE_RATE - target_s), n, idx)
            if best is None or key < best:
                best = key
    if best is None:
        raise SpeechClipsMissing("no speech clips to build continuous speech from")
    return tuple(clips[i] for i in best[2])


def load_clips(speech_dir: Path) -> tuple[SpeechClip, ...]:
    """Every speech clip of the manifest (non-speech clips left out), trimmed, pauses shortened."""
    return _load_clips(Path(speech_dir).resolve())


@cache
def _load_clips(speech_dir: Path) -> tuple[SpeechClip, ...]:
    from onevox.audio.files import load_audio

    manifest = speech_dir / "manifest.jsonl"
    if not manifest.is_file():
        raise SpeechClipsMissing(f"no speech clips: {manifest} does not exist")
    out = []
    for line in manifest.read_text().splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        if not entry.get("text"):
            continue  # a non-speech clip: silence, noise or tones
        path = speech_dir / entry["file"]
        if not path.is_file():
            raise SpeechClipsMissing(f"speech clip {path} named in {manifest} does not exist")
        audio = load_audio(path)
        quiet = quiet_db(audio)
        short, _ = shorten_pauses(audio)
        out.append(SpeechClip(entry["id"], entry["text"], entry.get("alt_text", ""), short, quiet))
    return tuple(out)


def shorten_pauses(audio: np.ndarray, quiet_below: np.ndarray | None = None,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """`audio` trimmed to its sound with each pause's quiet middle cut out (see the module's docstring),
    and the quiet level per sample that goes with it. `quiet_below` gives that level for the input (joined
    clips each keep their own); by default `quiet_db` of the whole. Scored again after each pass, because
    Silero, which carries state across frames, can hear the shortened audio differently."""
    audio = out = np.asarray(audio, dtype=np.float32)
    raw = quiet_below is None
    levels = np.full(out.size, quiet_db(out), np.float32) if quiet_below is None else quiet_below
    for _ in range(_MAX_PASSES):
        speech = speech_probs(out) >= SPEECH_THRESHOLD
        if not speech.any():
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        # Only the first look at a raw clip trims its edges and bounds the sound kept next to speech
        # frames; later passes (and the seams of joined clips) see Silero react differently to audio it
        # has not heard before (an onset can come out later still), so they only ever cut quiet.
        first = raw and out is audio
        ranges = _ranges_to_keep(out, speech, _quiet_windows(out, levels), first)
        if ranges == [(0, out.size)]:
            break
        out = join([out[a:b] for a, b in ranges])
        fade = _fade_samples()  # the levels follow the audio: each seam after the first loses `fade`
        levels = np.concatenate([levels[a + (fade if i else 0):b] for i, (a, b) in enumerate(ranges)])
    return out, levels


def quiet_db(audio: np.ndarray) -> float:
    """The level (dB, per 10 ms window) below which `audio` is quiet: just above its noise floor (this
    percentile of its windows), or far below its speech (the median window of Silero's speech frames),
    whichever is higher. Background noise in read speech wanders by several dB; speech stays far above."""
    from onevox.vad.silero import FRAME

    levels = _window_db(audio)
    floor = float(np.percentile(levels, _FLOOR_PERCENTILE))
    frames = speech_probs(audio) >= SPEECH_THRESHOLD
    at = np.arange(levels.size) * _WINDOW // FRAME  # the frame each window starts in
    speech = frames[at[at < frames.size]]
    voiced = float(np.median(levels[: speech.size][speech])) if speech.any() else floor
    return max(floor + _ABOVE_FLOOR_DB, voiced - _BELOW_SPEECH_DB)


def _window_db(audio: np.ndarray) -> np.ndarray:
    """Level of each 10 ms window, averaged (in power) with its neighbours: background noise flickers by
    several dB from one 10 ms window to the next, words do not stop and start that fast."""
    n = audio.size // _WINDOW
    x = audio[: n * _WINDOW].reshape(n, _WINDOW).astype(np.float64)
    power = np.mean(x * x, axis=1)
    smooth = np.convolve(np.pad(power, 1, mode="edge"), np.ones(3) / 3, mode="valid") if n else power
    return np.asarray(10 * np.log10(smooth + 1e-12))


def _quiet_windows(audio: np.ndarray, quiet_below: np.ndarray) -> np.ndarray:
    levels = _window_db(audio)
    return np.asarray(levels < quiet_below[: levels.size * _WINDOW: _WINDOW])


def _ranges_to_keep(audio: np.ndarray, speech: np.ndarray, quiet: np.ndarray, first: bool,
                    ) -> list[tuple[int, int]]:
    """Sample ranges of `audio` to keep: from the sound before its first speech frame to the sound after
    its last, each long pause cut down to _KEEP_S of quiet after the sound that ends a word and _KEEP_S
    before the sound that starts the next."""
    from onevox.vad.silero import FRAME

    head = int(np.argmax(speech)) * FRAME // _WINDOW
    last = -(-(speech.size - int(np.argmax(speech[::-1]))) * FRAME // _WINDOW)  # past the last speech frame
    pad = round(EDGE_PAD_S * SAMPLE_RATE)
    limit = round(_PROTECT_S * SAMPLE_RATE / _WINDOW) if first else quiet.size
    start_w, end_w = _sound_edge(quiet, head, -1, limit), _sound_edge(quiet, last, 1, limit)
    # Silero can call the first or last frame speech while its sound has not started or has already ended
    while start_w < end_w and quiet[start_w]:
        start_w += 1
    while end_w > start_w and quiet[end_w - 1]:
        end_w -= 1
    lo, hi = max(0, start_w * _WINDOW - pad), min(audio.size, end_w * _WINDOW + pad)
    if not first:
        lo, hi = 0, audio.size
    keep = round(_KEEP_S * SAMPLE_RATE)
    ranges, start = [], lo
    for a, b in _pause_runs(speech):
        a, b = -(-a * FRAME // _WINDOW), b * FRAME // _WINDOW
        # the sound on each side of the run belongs to the words; what lies between is cut
        cut_from = _sound_edge(quiet, a, 1, limit) * _WINDOW + keep
        cut_to = _sound_edge(quiet, b, -1, limit) * _WINDOW - keep
        if cut_to - cut_from < _fade_samples():
            continue  # nothing to cut: already short, or sound the VAD does not call speech all along
        ranges.append((start, cut_from))
        start = cut_to
    ranges.append((start, hi))
    return ranges


def _sound_edge(quiet: np.ndarray, window: int, step: int, limit: int) -> int:
    """Walking from the window boundary `window` in direction `step`, where the sound next to a speech
    frame ends: the first boundary followed (in that direction) by _QUIET_RUN quiet windows, at most
    `limit` windows away (_PROTECT_S on a clip's first pass: Silero is late by a frame or two on a soft
    onset or a word's fading end; sound further out, such as a breath, is not a word)."""
    edge = window
    for _ in range(limit):
        ahead = range(edge, edge + _QUIET_RUN) if step > 0 else range(edge - 1, edge - 1 - _QUIET_RUN, -1)
        if any(i < 0 or i >= quiet.size for i in ahead) or all(quiet[i] for i in ahead):
            break
        edge += step
    return max(0, min(edge, quiet.size))


def _pause_runs(speech: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) frame indices of each run of non-speech frames between two speech frames."""
    runs, start, seen_speech = [], None, False
    for i, is_speech in enumerate(speech):
        if is_speech:
            if start is not None and seen_speech:
                runs.append((start, i))
            start, seen_speech = None, True
        elif start is None:
            start = i
    return runs


def join(pieces: list[np.ndarray]) -> np.ndarray:
    """`pieces` back to back, each seam crossfaded over _FADE_S (equal-gain, as both sides are quiet)."""
    fade = _fade_samples()
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    out = np.asarray(pieces[0], dtype=np.float32)
    for piece in pieces[1:]:
        piece = np.asarray(piece, dtype=np.float32)
        n = min(fade, out.size, piece.size)
        seam = out[out.size - n:] * (1.0 - ramp[:n]) + piece[:n] * ramp[:n] if n else np.zeros(0, np.float32)
        out = np.concatenate([out[:out.size - n], seam, piece[n:]])
    return out


def _fade_samples() -> int:
    return round(_FADE_S * SAMPLE_RATE)


@cache
def _vad() -> SileroVad:  # one, kept: opening an onnxruntime session costs tens of milliseconds
    from onevox.vad.silero import SileroVad

    return SileroVad()
