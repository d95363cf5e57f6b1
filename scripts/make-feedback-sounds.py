#!/usr/bin/env python3
"""Write the start and stop tones that ship in src/onevox/feedback/data/ (run once; the WAVs are committed).

Each tone is a short sine with a raised-cosine attack and release (no click), 16-bit mono at 48 kHz: the start
tone rises (660 then 880 Hz), the stop tone falls (880 then 660 Hz), so the two are told apart by ear. The
frequencies are the ones the tests look for (onevox.feedback.sound.TONES).

    python scripts/make-feedback-sounds.py
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 48000
PART_MS = 45  # each of the two notes
FADE_MS = 8  # attack and release of each note
PEAK = 0.5  # of full scale: the player's volume scales it further
OUT = Path(__file__).resolve().parents[1] / "src" / "onevox" / "feedback" / "data"
TONES = {"start": (660.0, 880.0), "stop": (880.0, 660.0)}


def note(freq: float) -> np.ndarray:
    n = RATE * PART_MS // 1000
    t = np.arange(n) / RATE
    fade = RATE * FADE_MS // 1000
    envelope = np.ones(n)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))
    envelope[:fade] = ramp
    envelope[-fade:] = ramp[::-1]
    return np.sin(2 * np.pi * freq * t) * envelope


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, freqs in TONES.items():
        samples = np.concatenate([note(f) for f in freqs]) * PEAK
        with wave.open(str(OUT / f"{name}.wav"), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes((samples * 32767).astype("<i2").tobytes())
        print(f"{OUT / f'{name}.wav'}: {len(samples) / RATE * 1000:.0f} ms, {freqs} Hz")


if __name__ == "__main__":
    main()
