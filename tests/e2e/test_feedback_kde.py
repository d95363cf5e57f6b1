"""The layer-shell recording indicator on headless KDE KWin 5.27 (tests/support/kde.py): KWin announces
zwlr_layer_shell_v1, the surface is shown (the window's own answer: "shown recording ...") and hidden, and
while it shows, text pasted through KWin's fake input still lands in the focused GTK window: the indicator
takes no keyboard. (The daemon-level runs are on sway: tests/e2e/test_feedback_sway.py.)"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from onevox.config import InjectionConfig
from onevox.desktop import display_socket
from onevox.desktop.wayland import wayland_globals
from onevox.feedback.wayland import LAYER_SHELL, LayerShellIndicator, layer_shell_unavailable
from onevox.inject.paste import PasteInjector
from tests.support.desktop import wait_until
from tests.support.headless import as_client
from tests.support.kde import HeadlessKWin, kwin_for_tests
from tests.support.requirements import INSTALL_HINT

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def kwin() -> Iterator[HeadlessKWin]:
    with kwin_for_tests() as desktop:
        yield desktop


def test_a_layer_shell_surface_on_kwin_that_takes_no_keyboard(kwin: HeadlessKWin,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    as_client(kwin, monkeypatch)
    caplog.set_level(logging.DEBUG, logger="onevox.feedback")
    socket = display_socket(kwin.env)
    assert socket is not None
    assert LAYER_SHELL in (wayland_globals(socket) or ())
    reason = layer_shell_unavailable(kwin.env, wayland_globals(socket))
    assert reason is None, f"{reason}; {INSTALL_HINT}"
    window = kwin.open_target("editor")
    indicator = LayerShellIndicator(kwin.env)
    injector = PasteInjector(InjectionConfig(method="paste"), "wayland")
    try:
        indicator.start()
        indicator.handle({"event": "state", "state": "recording"})
        indicator.handle({"event": "recording_started", "dictation": 1})
        indicator.handle({"event": "partial", "dictation": 1, "text": "les mètres"})
        wait_until(lambda: "shown recording recording: les mètres" in indicator.shown, 10.0,
                   "the indicator's window to show the live words")
        assert indicator.running, caplog.text
        injector.inject("typed while it shows")
        window.wait_for_text("typed while it shows")
        indicator.handle({"event": "state", "state": "idle"})
        wait_until(lambda: indicator.shown[-1:] == ["hidden"], 10.0, "the indicator to hide")
    finally:
        injector.close()
        indicator.close()
        window.proc.terminate()
        window.proc.wait(timeout=5)
