"""Voice activity detection: which parts of a dictation hold speech.

Detectors (Silero, WebRTC, energy) score fixed-size frames; `SpeechSegmenter` turns the scores into speech
segments as audio streams in. Native libraries (onnxruntime, webrtcvad) load only when a detector is made.
"""

from __future__ import annotations

from onevox.vad.base import BatchFrameClassifier, FrameClassifier
from onevox.vad.energy import EnergyOptions, EnergyVad
from onevox.vad.factory import create_detector
from onevox.vad.segmenter import SpeechSegment, SpeechSegmenter, find_speech
from onevox.vad.silero import SileroVad
from onevox.vad.webrtc import WebRtcVad

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

