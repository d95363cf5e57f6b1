"""Feedback: the answer to "is it listening?" for a user who cannot see a terminal.

A start/stop tone (`sound.SoundPlayer`, shipped WAVs) and a recording indicator that shows the state and the
live words: a wlr-layer-shell surface on Wayland compositors that have one (`wayland.LayerShellIndicator`:
sway, Hyprland, river, KDE Plasma) or an X11 window (`x11.X11Indicator`: X11, and XWayland elsewhere, e.g.
GNOME). Their state machine is `view.IndicatorModel`. All read the daemon's event bus through
`runner.FeedbackRunner`, and none takes the input focus or delays a dictation.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from onevox.config import FeedbackConfig
from onevox.feedback.base import Event, EventStream, Feedback

__all__ = ["Event", "EventStream", "Feedback", "choose_indicator", "create_feedback", "indicator_unavailable"]

# environ -> None when a layer-shell indicator can run there, else why not
LayerShellCheck = Callable[[Mapping[str, str]], "str | None"]


def _layer_shell_check(environ: Mapping[str, str]) -> str | None:
    from onevox.desktop import display_socket
    from onevox.desktop.wayland import wayland_globals
    from onevox.feedback.wayland import layer_shell_unavailable

    socket = display_socket(environ)
    return layer_shell_unavailable(environ, wayland_globals(socket) if socket else None)


def choose_indicator(config: FeedbackConfig, environ: Mapping[str, str] | None = None, *,
                     layer_shell: LayerShellCheck = _layer_shell_check) -> tuple[str | None, str]:
    """Which indicator runs here: ("layer-shell" | "x11", a note) or (None, why there is none)."""
    env = os.environ if environ is None else environ
    if config.indicator == "off":
        return None, "turned off ([feedback] indicator = \"off\")"
    no_layer_shell = ""
    if env.get("WAYLAND_DISPLAY") and config.indicator in ("auto", "layer-shell"):
        why = layer_shell(env)
        if why is None:
            return "layer-shell", f"a layer-shell surface on {env['WAYLAND_DISPLAY']}"
        no_layer_shell = f"no layer-shell indicator: {why}"
    if config.indicator == "layer-shell":
        return None, no_layer_shell or "not a Wayland session ([feedback] indicator = \"layer-shell\")"
    if env.get("DISPLAY"):
        return "x11", "; ".join(filter(None, [f"an X11 window on {env['DISPLAY']}", no_layer_shell]))
    if no_layer_shell:
        return None, f"{no_layer_shell}; and no X display (XWayland) for the X11 one"
    return None, "no display (neither WAYLAND_DISPLAY nor DISPLAY is set)"


def indicator_unavailable(config: FeedbackConfig, environ: Mapping[str, str] | None = None, *,
                          layer_shell: LayerShellCheck = _layer_shell_check) -> str | None:
    """Why there is no recording indicator here (None: there is one)."""
    kind, note = choose_indicator(config, environ, layer_shell=layer_shell)
    return None if kind else note


def create_feedback(config: FeedbackConfig, environ: Mapping[str, str] | None = None, *,
                    layer_shell: LayerShellCheck = _layer_shell_check) -> list[Feedback]:
    """The feedback parts this config and session ask for (maybe none)."""
    env = os.environ if environ is None else environ
    parts: list[Feedback] = []
    if config.sounds and config.sound_volume > 0:
        from onevox.feedback.sound import SoundPlayer

        parts.append(SoundPlayer(config.sound_volume))
    kind, _ = choose_indicator(config, env, layer_shell=layer_shell)
    if kind == "layer-shell":
        from onevox.feedback.wayland import LayerShellIndicator

        parts.append(LayerShellIndicator(env))
    elif kind == "x11":
        from onevox.feedback.x11 import X11Indicator

        parts.append(X11Indicator(env.get("DISPLAY")))
    return parts
