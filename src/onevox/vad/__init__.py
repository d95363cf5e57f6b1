"""Voice activity detection: which parts of a dictation hold speech.

Detectors (Silero, WebRTC, energy) score fixed-size frames; `SpeechSegmenter` turns the scores into speech
segments as audio streams in. Native libraries (onnxruntime, webrtcvad) load only when a detector is made.
"""

from __future__ import annotations

from onevox.config import VadConfig
from onevox.errors import ConfigError
from onevox.vad.base import BatchFrameClassifier, FrameClassifier
from onevox.vad.energy import EnergyOptions, EnergyVad
from onevox.vad.segmenter import SpeechSegment, SpeechSegmenter, find_speech
from onevox.vad.silero import SileroVad
from onevox.vad.webrtc import WebRtcVad, aggressiveness_for_threshold

__all__ = [
    "BatchFrameClassifier",
    "EnergyOptions",
    "EnergyVad",
    "FrameClassifier",
    "SileroVad",
    "SpeechSegment",
    "SpeechSegmenter",
    "WebRtcVad",
    "create_detector",
    "find_speech",
]


def create_detector(cfg: VadConfig) -> FrameClassifier | None:
    """The detector [vad] backend names; None for "off". Raises ModelError when Silero cannot load."""
    if cfg.backend == "silero":
        return SileroVad()
    if cfg.backend == "webrtc":
        return WebRtcVad(aggressiveness_for_threshold(cfg.threshold))
    if cfg.backend == "energy":
        return EnergyVad()
    if cfg.backend == "off":
        return None
    raise ConfigError("[vad]", "vad.backend",
                      f"must be one of silero, webrtc, energy, off; got {cfg.backend!r}")
