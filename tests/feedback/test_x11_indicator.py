"""The X11 indicator window on a virtual display (Xvfb), driven by events without a daemon: what it shows is
read from outside with xprop and xwininfo, as a user's tools would."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from onevox.feedback.x11 import HEIGHT, MARGIN, X11Indicator, place
from tests.support.desktop import VirtualDesktop, wait_until
from tests.support.requirements import require_tools


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[VirtualDesktop]:
    require_tools(("xprop", "xwininfo"))
    with VirtualDesktop.start(tmp_path) as d:
        yield d


@pytest.fixture
def indicator(desktop: VirtualDesktop) -> Iterator[X11Indicator]:
    ind = X11Indicator(desktop.display)
    ind.start()
    assert ind.window_id
    yield ind
    ind.close()


def _prop(desktop: VirtualDesktop, wid: int, name: str) -> str:
    out = desktop.run(["xprop", "-id", str(wid), "-notype", name], check=False).stdout.decode()
    return out.partition(" = ")[2].strip().strip('"')


def _mapped(desktop: VirtualDesktop, wid: int) -> bool:
    return "IsViewable" in desktop.run(["xwininfo", "-id", str(wid)]).stdout.decode()


def _shows(desktop: VirtualDesktop, wid: int, title: str) -> None:
    wait_until(lambda: _prop(desktop, wid, "_NET_WM_NAME") == title, 5.0, f"the indicator to show {title!r}")


def test_shown_while_recording_with_unicode_words_and_hidden_when_idle(desktop: VirtualDesktop,
                                                                      indicator: X11Indicator) -> None:
    wid = indicator.window_id
    window = desktop.open_target("editor")
    assert not _mapped(desktop, wid) and _prop(desktop, wid, "_ONEVOX_STATE") == "idle"
    indicator.handle({"event": "state", "state": "recording"})
    indicator.handle({"event": "recording_started", "dictation": 3})
    indicator.handle({"event": "partial", "dictation": 3, "text": "mètres 📏 ok"})
    _shows(desktop, wid, "onevox: recording: mètres 📏 ok")
    assert _mapped(desktop, wid) and _prop(desktop, wid, "_ONEVOX_STATE") == "recording"
    info = desktop.run(["xwininfo", "-id", str(wid)]).stdout.decode()
    assert "Override Redirect State: yes" in info
    assert "Client accepts input or input focus: False" in desktop.run(
        ["xprop", "-id", str(wid), "WM_HINTS"]).stdout.decode()
    assert desktop.xdotool("getwindowfocus").strip() == window.wid
    indicator.handle({"event": "recording_stopped", "dictation": 3})
    _shows(desktop, wid, "onevox: transcribing: mètres 📏 ok")
    indicator.handle({"event": "state", "state": "idle"})
    wait_until(lambda: not _mapped(desktop, wid), 5.0, "the indicator to hide")
    assert desktop.xdotool("getwindowfocus").strip() == window.wid


def test_clicks_go_through_it(desktop: VirtualDesktop, indicator: X11Indicator) -> None:
    """An empty input shape: the window under the indicator gets the pointer, never the indicator."""
    indicator.handle({"event": "state", "state": "recording"})
    wait_until(lambda: _mapped(desktop, indicator.window_id), 5.0, "the indicator to show")
    geometry = desktop.run(["xwininfo", "-id", str(indicator.window_id)]).stdout.decode()
    x = int(geometry.split("Absolute upper-left X:")[1].split()[0]) + 20
    y = int(geometry.split("Absolute upper-left Y:")[1].split()[0]) + 10
    desktop.xdotool("mousemove", "--sync", str(x), str(y))
    under = desktop.xdotool("getmouselocation", "--shell")
    assert f"WINDOW={indicator.window_id}\n" not in under, under


def test_an_error_is_shown(desktop: VirtualDesktop, indicator: X11Indicator) -> None:
    indicator.handle({"event": "state", "state": "error", "message": "capture: device lost"})
    _shows(desktop, indicator.window_id, "onevox: error: capture: device lost")
    assert _mapped(desktop, indicator.window_id)


def test_the_display_going_away_leaves_the_caller_unharmed(desktop: VirtualDesktop, indicator: X11Indicator,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    desktop.stop()  # the X server exits
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        indicator.handle({"event": "state", "state": "recording"})
    wait_until(lambda: not indicator.running, 5.0, "the indicator's thread to end")
    assert any("recording indicator stopped" in r.getMessage() for r in caplog.records)


def test_no_display_is_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    ind = X11Indicator(":9999")
    ind.start()
    ind.handle({"event": "state", "state": "recording"})
    ind.close()
    assert ind.window_id == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0].startswith("no recording indicator: cannot open X display :9999")


def test_placed_at_the_bottom_centre_of_the_primary_monitor() -> None:
    left, right = (0, 0, 1920, 1080, False), (1920, 0, 1280, 1024, True)
    assert place([left, right], (3200, 1080), 400) == (1920 + 440, 1024 - HEIGHT - MARGIN)
    assert place([left], (3200, 1080), 400) == (760, 1080 - HEIGHT - MARGIN)  # no primary: the first
    assert place([], (1280, 800), 180) == (550, 800 - HEIGHT - MARGIN)  # no RandR: the whole screen
