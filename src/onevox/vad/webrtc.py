"""WebRTC's GMM voice activity detector (webrtcvad-wheels): tiny and fast, but a yes/no answer per frame.

It gives no probability, so `speech_prob` is 1.0 or 0.0 and the configured threshold chooses how
aggressively it rejects non-speech instead (see `aggressiveness_for_threshold`).
"""

from __future__ import annotations

import numpy as np

from onevox.errors import AudioError
from onevox.vad.frames import check_frame, check_frames

RATE = 16000
FRAME_MS = (10, 20, 30)  # the only frame lengths WebRTC's VAD accepts


def aggressiveness_for_threshold(threshold: float) -> int:
    """Map [vad] threshold 0..1 to WebRTC mode 0 (lets most through) .. 3 (rejects most); 0.5 -> 2."""
    return min(3, max(0, int(threshold * 3 + 0.5)))


class WebRtcVad:
    """Streaming WebRTC VAD on 16 kHz float frames (converted to int16 in a pre-allocated buffer)."""

    name = "webrtc"

    def __init__(self, aggressiveness: int = 2, frame_ms: int = 30) -> None:
        import webrtcvad

        if frame_ms not in FRAME_MS:
            raise AudioError(f"WebRTC VAD frames must be 10, 20 or 30 ms, got {frame_ms}")
        if aggressiveness not in range(4):
            raise AudioError(f"WebRTC VAD aggressiveness must be 0..3, got {aggressiveness}")
        self.aggressiveness = aggressiveness
        self.frame_samples = RATE * frame_ms // 1000
        self._new_vad = lambda: webrtcvad.Vad(aggressiveness)
        self._vad = self._new_vad()
        self._scaled = np.zeros(self.frame_samples, np.float32)
        self._pcm = np.zeros(self.frame_samples, np.int16)
        self._bytes = memoryview(self._pcm).cast("B")

    def speech_prob(self, frame: np.ndarray) -> float:
        return self._score(check_frame(frame, self.frame_samples, self.name))

    def speech_probs(self, audio: np.ndarray) -> np.ndarray:
        frames = check_frames(audio, self.frame_samples, self.name).reshape(-1, self.frame_samples)
        return np.fromiter((self._score(f) for f in frames), np.float32, frames.shape[0])

    def _score(self, frame: np.ndarray) -> float:
        np.multiply(frame, 32767.0, out=self._scaled)
        np.clip(self._scaled, -32768.0, 32767.0, out=self._scaled)
        self._pcm[:] = self._scaled  # float -> int16 truncation into the pre-allocated buffer
        return 1.0 if self._vad.is_speech(self._bytes, RATE) else 0.0

    def reset(self) -> None:
        self._vad = self._new_vad()  # webrtcvad has no reset; a new instance is cheap (~1 us)
