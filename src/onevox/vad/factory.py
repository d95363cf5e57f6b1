"""`create_detector`: the detector the [vad] config names.

A module of its own rather than the package's __init__, so that modules inside onevox.vad (find_speech in
segmenter.py) can use it without importing the package that imports them.
"""

from __future__ import annotations

from onevox.config import VadConfig
from onevox.errors import ConfigError
from onevox.vad.base import FrameClassifier
from onevox.vad.energy import EnergyVad
from onevox.vad.silero import SileroVad
from onevox.vad.webrtc import WebRtcVad, aggressiveness_for_threshold


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
