"""Input checks shared by the detectors and the segmenter: bad audio fails with an AudioError, not deep
inside onnxruntime or webrtcvad."""

from __future__ import annotations

import numpy as np

from onevox.errors import AudioError


def as_mono_float32(audio: np.ndarray, what: str = "audio") -> np.ndarray:
    """`audio` as a 1-D float32 array (no copy when it already is one)."""
    arr = np.asarray(audio)
    if arr.ndim != 1:
        raise AudioError(f"{what} must be one channel (a 1-D array), got shape {arr.shape}")
    if arr.dtype.kind != "f":
        raise AudioError(f"{what} must be float samples in -1..1 at 16 kHz, got dtype {arr.dtype}")
    return arr if arr.dtype == np.float32 else arr.astype(np.float32)


def check_frame(frame: np.ndarray, frame_samples: int, detector: str) -> np.ndarray:
    """One frame of exactly `frame_samples` float samples."""
    arr = as_mono_float32(frame, f"{detector} VAD frame")
    if arr.shape[0] != frame_samples:
        raise AudioError(f"{detector} VAD needs frames of {frame_samples} samples, got {arr.shape[0]}")
    return arr


def check_frames(audio: np.ndarray, frame_samples: int, detector: str) -> np.ndarray:
    """Consecutive frames: a length that is a whole number of frames."""
    arr = as_mono_float32(audio, f"{detector} VAD audio")
    if arr.shape[0] % frame_samples:
        raise AudioError(
            f"{detector} VAD scores whole frames of {frame_samples} samples; got {arr.shape[0]} samples")
    return arr
