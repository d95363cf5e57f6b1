"""Feedback: the answer to "is it listening?" for a user who cannot see a terminal.

A start/stop tone (`sound.SoundPlayer`, shipped WAVs) and a recording indicator window that shows the state
and the live words (`x11.X11Indicator`; its state machine is `view.IndicatorModel`). Both read the daemon's
event bus through `runner.FeedbackRunner` and never take the input focus or delay a dictation.
Wayland (layer-shell on wlroots and KDE) has no indicator yet: `indicator_unavailable` says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from onevox.config import FeedbackConfig
from onevox.feedback.base import Event, EventStream, Feedback

__all__ = ["Event", "EventStream", "Feedback", "create_feedback", "indicator_unavailable"]


def indicator_unavailable(config: FeedbackConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """Why there is no recording indicator here (None: there is one)."""
    env = os.environ if environ is None else environ
    if config.indicator == "off":
        return "turned off ([feedback] indicator = \"off\")"
    if env.get("DISPLAY"):
        return None
    if env.get("WAYLAND_DISPLAY"):
        return ("no X display: the indicator needs X11 or XWayland (DISPLAY); a Wayland layer-shell "
                "indicator is not written yet")
    return "no display (DISPLAY is not set)"


def create_feedback(config: FeedbackConfig, environ: Mapping[str, str] | None = None) -> list[Feedback]:
    """The feedback parts this config and session ask for (maybe none)."""
    env = os.environ if environ is None else environ
    parts: list[Feedback] = []
    if config.sounds and config.sound_volume > 0:
        from onevox.feedback.sound import SoundPlayer

        parts.append(SoundPlayer(config.sound_volume))
    if indicator_unavailable(config, env) is None:
        from onevox.feedback.x11 import X11Indicator

        parts.append(X11Indicator(env.get("DISPLAY")))
    return parts
