"""Energy VAD: frame level against an adaptive noise floor, with hysteresis. No model, no dependency.

It knows loudness only, so it cannot tell speech from other sounds as loud (music, beeps, keyboard); it is
the fallback when neither Silero nor WebRTC is available. What it does guarantee: digital silence and
steady noise (white noise, fans, hum) are never speech, because the floor follows any steady level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from onevox.vad.frames import check_frame, check_frames

SILENCE_DB = -100.0  # frames below this are digital silence: never speech, never noise-floor evidence


@dataclass(frozen=True)
class EnergyOptions:
    frame_ms: int = 20  # frame length
    on_db: float = 12.0  # a frame this far above the floor starts speech
    off_db: float = 4.0  # ... and speech goes on until a frame falls below floor + off_db (hysteresis)
    min_level_db: float = -55.0  # frames quieter than this (dBFS) are never speech, however low the floor
    initial_floor_db: float = -50.0  # the floor is started at min(first level, this): speech at once is heard
    fall: float = 0.3  # the floor moves this fraction of the way down to a quieter frame
    rise_db: float = 0.1  # the floor creeps up this much per frame above it (5 dB/s at 20 ms)
    steady_frames: int = 12  # frames whose levels all lie within steady_db of each other are steady sound ...
    steady_db: float = 4.0  # ... and the floor jumps to them: noise is steady, speech is not
    slope_db: float = 2.0  # width of the level->probability curve around the on/off point


class EnergyVad:
    """Streaming energy detector; `speech_prob` is a smooth function of the level above the noise floor."""

    name = "energy"

    def __init__(self, options: EnergyOptions | None = None) -> None:
        self.options = options or EnergyOptions()
        self.frame_samples = 16 * self.options.frame_ms
        self._recent = np.full(self.options.steady_frames, np.nan)
        self.reset()

    def reset(self) -> None:
        self._floor: float | None = None
        self._active = False
        self._recent.fill(np.nan)
        self._count = 0

    @property
    def noise_floor_db(self) -> float | None:
        return self._floor

    def speech_prob(self, frame: np.ndarray) -> float:
        frame = check_frame(frame, self.frame_samples, self.name)
        return self._score(float(np.dot(frame, frame)) / frame.shape[0])

    def speech_probs(self, audio: np.ndarray) -> np.ndarray:
        frames = check_frames(audio, self.frame_samples, self.name).reshape(-1, self.frame_samples)
        powers = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / self.frame_samples
        return np.fromiter((self._score(float(p)) for p in powers), np.float32, frames.shape[0])

    def _score(self, power: float) -> float:
        level = 10.0 * math.log10(power) if power > 1e-10 else SILENCE_DB
        if level <= SILENCE_DB:
            self._active = False
            return 0.0
        floor = self._track_floor(level)
        opts = self.options
        margin = opts.off_db if self._active else opts.on_db
        x = (level - floor - margin) / opts.slope_db
        prob = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))
        if level < opts.min_level_db:
            prob = 0.0
        self._active = prob >= 0.5
        return prob

    def _track_floor(self, level: float) -> float:
        opts = self.options
        self._recent[self._count % opts.steady_frames] = level
        self._count += 1
        if self._floor is None:
            self._floor = min(level, opts.initial_floor_db)
        elif level < self._floor:
            self._floor += opts.fall * (level - self._floor)
        elif self._count >= opts.steady_frames and np.ptp(self._recent) <= opts.steady_db:
            self._floor = float(np.median(self._recent))
        else:
            self._floor = min(level, self._floor + opts.rise_db)
        return self._floor
