"""Writing a dictation's audio to disk, only when the user asked for it (`[audio] save_recordings`)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import numpy as np

from onevox import paths
from onevox.audio import SAMPLE_RATE


def save_recording(chunks: list[np.ndarray], folder: Path | None, created_at: float,
                   dictation_id: int) -> Path:
    """Write the chunks as a 16-bit WAV readable by this user only; OSError or RuntimeError when it fails.
    `folder` None: <XDG data>/onevox/recordings."""
    import soundfile  # only needed when the user asked for recordings

    folder = folder or paths.data_dir() / "recordings"
    paths.ensure_private_dir(folder)
    stamp = datetime.fromtimestamp(created_at).strftime("%Y%m%d-%H%M%S")
    path = folder / f"{stamp}-{dictation_id}.wav"
    audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    with open(path, "wb", opener=_private_opener) as handle:
        soundfile.write(handle, audio, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return path


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)
