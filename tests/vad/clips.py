"""Helpers for the VAD tests: the real speech clips of tests/data/speech."""

from __future__ import annotations

import numpy as np
import soundfile

from tests.support.speech import speech_file, speech_manifest

NONSPEECH = ("nonspeech-silence-2s", "nonspeech-whitenoise-2s", "nonspeech-tones-2s")


def manifest() -> list[dict]:
    # Called while collecting (parametrize): a missing manifest is then a collection error, not an empty,
    # silently skipped parameter list.
    return speech_manifest()


def speech_ids() -> list[str]:
    return [entry["id"] for entry in manifest() if entry["text"]]


def load_clip(clip_id: str) -> np.ndarray:
    audio, rate = soundfile.read(speech_file(f"{clip_id}.wav"), dtype="float32")
    assert rate == 16000
    return audio


def loud_extent(audio: np.ndarray, above_floor_db: float = 20.0) -> tuple[int, int]:
    """First and last sample of the 10 ms frames more than `above_floor_db` over the clip's noise floor
    (its 10th-percentile frame level): where the words start and end, measured without any VAD."""
    frames = audio[:len(audio) // 160 * 160].reshape(-1, 160)
    level = 10 * np.log10((frames.astype(np.float64) ** 2).mean(axis=1) + 1e-10)
    floor = np.percentile(level[level > -90], 10)
    loud = np.nonzero(level > floor + above_floor_db)[0]
    return int(loud[0]) * 160, (int(loud[-1]) + 1) * 160
