"""The layer-shell indicator's part without a compositor (the whole thing runs on sway in
tests/e2e/test_feedback_sway.py): what it needs, and failing politely when its window cannot start."""

from __future__ import annotations

import time

import pytest

from onevox.feedback.wayland import LAYER_SHELL, LayerShellIndicator, layer_shell_unavailable
from tests.support.waiting import wait_until


def test_what_a_layer_shell_indicator_needs() -> None:
    assert layer_shell_unavailable({}, None) == "not a Wayland session"
    assert "no layer-shell" in (layer_shell_unavailable({"WAYLAND_DISPLAY": "w"}, ("wl_compositor",)) or "")
    # with the compositor's globals unknown or listing layer-shell, only the system python3 decides
    reason = layer_shell_unavailable({"WAYLAND_DISPLAY": "w"}, ("wl_compositor", LAYER_SHELL))
    assert reason is None or "gir1.2-gtklayershell-0.1" in reason or "python3" in reason


def test_a_window_that_cannot_start_is_one_warning_and_no_wait(caplog: pytest.LogCaptureFixture) -> None:
    indicator = LayerShellIndicator({"PATH": "/usr/bin:/bin", "WAYLAND_DISPLAY": "no-such-display",
                                     "XDG_RUNTIME_DIR": "/nonexistent"})
    started = time.monotonic()
    indicator.start()  # returns at once: the window starts on the indicator's thread
    indicator.handle({"event": "state", "state": "recording"})  # queued, then dropped: never raises
    wait_until(lambda: not indicator.running, 5.0)
    assert time.monotonic() - started < 5.0
    indicator.close()
    assert not indicator.running
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and warnings[0].startswith("no recording indicator"), warnings
