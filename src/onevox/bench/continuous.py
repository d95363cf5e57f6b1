"""Continuous speech of a chosen length, built from real clips, for the long-dictation benchmarks (issue 9).

A person who talks for a minute without stopping gives the recogniser no pause to decode in. To measure
that, real speech clips (a directory with `manifest.jsonl`, such as tests/data/speech) are made gap-free:

- each clip is scored with the project's Silero VAD (32 ms frames); a frame below `SPEECH_THRESHOLD` is
  non-speech;
- the clip's leading and trailing non-speech is trimmed to `EDGE_PAD_S`, so two joined clips leave less
  than 100 ms between them;
- every internal non-speech run longer than `MAX_PAUSE_S` keeps its first and last `_KEEP_S` and loses the
  middle: the cut lies inside the pause, where the signal is quiet, and a `_FADE_S` crossfade spares the
  listener (and the model) a click;
- the clips are joined back to back, crossfaded the same way, and the result is scored again (a seam
  between two speakers can sound like a longer pause than either clip's edge).

Clips are never cut inside, so the reference is exactly the clips' texts joined. Lengths come out close to
the request by choosing which clips to join (the subset of clips whose joined length is nearest), not by
cutting the last one; `Continuous.duration_s` is the real length. Everything is deterministic.
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
MAX_PAUSE_S = 0.1  # the limit: no pause longer than this may remain
EDGE_PAD_S = 0.04  # non-speech kept before a clip's first and after its last speech frame
_KEEP_S = 0.04  # each side of a shortened pause keeps this much of it (2 x 40 ms - fade < 100 ms)
_FADE_S = 0.005  # crossfade at every cut and join
_MAX_PASSES = 4  # shortening can shift Silero's frames; re-score the result until no long pause is left


@dataclass(frozen=True)
class SpeechClip:
    """One speech clip of the directory, pauses already shortened."""

    id: str
    text: str  # the manifest's reference
    alt_text: str  # the manifest's spoken-form alternative ("" when it has none)
    audio: np.ndarray  # 16 kHz mono float32

    @property
    def duration_s(self) -> float:
        return self.audio.size / SAMPLE_RATE


@dataclass(frozen=True)
class Continuous:
    """Gap-free speech and what was said."""

    audio: np.ndarray  # 16 kHz mono float32, speech to within EDGE_PAD_S of both ends
    clips: tuple[SpeechClip, ...]  # in the order they are spoken

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
        """Audio after the last speech frame (what the microphone still hears once the words end)."""
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
    """The longest run of non-speech frames strictly inside `audio` (after its first and before its last
    speech frame), in seconds: what the VAD would hear as a pause."""
    from onevox.vad.silero import FRAME

    runs = _pause_runs(speech_probs(audio) >= SPEECH_THRESHOLD)
    return max((b - a for a, b in runs), default=0) * FRAME / SAMPLE_RATE


def build(speech_dir: Path, target_s: float) -> Continuous:
    """Gap-free speech from the clips of `speech_dir` whose joined length is nearest `target_s`."""
    clips = load_clips(speech_dir)
    chosen = choose(clips, target_s)
    # Silero hears a seam between two speakers differently from either clip's own edges: score it again
    return Continuous(audio=shorten_pauses(join([c.audio for c in chosen])), clips=chosen)


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
        audio = shorten_pauses(load_audio(path))
        out.append(SpeechClip(entry["id"], entry["text"], entry.get("alt_text", ""), audio))
    return tuple(out)


def shorten_pauses(audio: np.ndarray) -> np.ndarray:
    """`audio` trimmed to EDGE_PAD_S around its speech, with every pause longer than MAX_PAUSE_S cut
    short. Scored again after each pass, because Silero, which carries state across frames, can hear the
    shortened audio differently."""
    out = np.asarray(audio, dtype=np.float32)
    for _ in range(_MAX_PASSES):
        speech = speech_probs(out) >= SPEECH_THRESHOLD
        if not speech.any():
            return np.zeros(0, np.float32)
        shorter = _shorten_once(out, speech)
        if shorter.size == out.size:
            return out
        out = shorter
    return out


def _shorten_once(audio: np.ndarray, speech: np.ndarray) -> np.ndarray:
    from onevox.vad.silero import FRAME

    first = int(np.argmax(speech))
    last = speech.size - int(np.argmax(speech[::-1]))  # one past the last speech frame
    pad = round(EDGE_PAD_S * SAMPLE_RATE)
    lo, hi = max(0, first * FRAME - pad), min(audio.size, last * FRAME + pad)
    keep = round(_KEEP_S * SAMPLE_RATE)
    pieces, start = [], lo
    for a, b in _pause_runs(speech):
        if (b - a) * FRAME <= 2 * keep:
            continue  # already no longer than what a cut would leave
        pieces.append(audio[start:a * FRAME + keep])
        start = b * FRAME - keep
    pieces.append(audio[start:hi])
    if len(pieces) == 1 and lo == 0 and hi == audio.size:
        return audio
    return join(pieces)


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
