"""The focused-window lookup that runs at the start of every dictation when profiles are configured:
X11 (a real Tk window on Xvfb, the connection kept open as the daemon keeps it), sway's IPC (headless
sway, a GTK window) and a KWin script (headless KWin 5.27, a GTK window), plus choosing the profile
from it."""

from __future__ import annotations

import pytest

from onevox.config import parse_config
from onevox.desktop.focus import FocusReader
from onevox.profiles import ProfileChooser
from tests.support.desktop import VirtualDesktop

PROFILES = """
[profiles.terminal]
match_class = ["kitty", "Alacritty", "foot"]
[profiles.terminal.injection]
method = "type"
[profiles.editor]
match_title = " - (Visual Studio Code|Vim)$"
[profiles.target]
match_class = ["focusbench"]
[profiles.target.post_processing]
capitalize = false
"""


@pytest.fixture(scope="module")
def desktop(tmp_path_factory):
    with VirtualDesktop.start(tmp_path_factory.mktemp("focus")) as desk:
        desk.open_target("bench", class_name="Focusbench")
        yield desk


def test_x11_focused_window(benchmark, desktop: VirtualDesktop) -> None:
    reader = FocusReader(desktop.env)
    reader.focused()  # the connection is opened once, at the first dictation
    found = benchmark.pedantic(reader.focused, rounds=200, iterations=1, warmup_rounds=5)
    reader.close()
    assert found is not None and found.app == ("focusbench", "Focusbench")


def test_x11_profile_choice(benchmark, desktop: VirtualDesktop) -> None:
    config = parse_config(PROFILES)
    chooser = ProfileChooser(FocusReader(desktop.env))
    chooser.choose(config)
    choice = benchmark.pedantic(chooser.choose, args=(config,), rounds=200, iterations=1, warmup_rounds=5)
    chooser.close()
    assert choice.profile == "target"


def test_sway_focused_window(benchmark) -> None:
    from tests.support.wayland import SwaySession

    with SwaySession.start() as sway:
        sway.open_target("bench", app_id="focus-bench")
        reader = FocusReader(sway.env)
        found = benchmark.pedantic(reader.focused, rounds=100, iterations=1, warmup_rounds=3)
    assert found is not None and found.app == ("focus-bench",)


def test_kwin_focused_window(benchmark) -> None:
    """KDE Plasma on Wayland: one KWin script loaded, run and unloaded per lookup (desktop/kwin.py)."""
    from tests.support.kde import kwin_for_tests

    with kwin_for_tests() as kwin:
        kwin.open_target("bench", app_id="focus-bench")
        reader = FocusReader(kwin.env)
        reader.focused()  # the bus connection is opened once, at the first dictation
        found = benchmark.pedantic(reader.focused, rounds=100, iterations=1, warmup_rounds=3)
        reader.close()
    assert found is not None and "focus-bench" in found.app and found.source == "kwin"
