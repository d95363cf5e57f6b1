"""The focused window on KDE Wayland (desktop/kwin.py): the script, its answer, and each way the lookup can
fail, against a test double of KWin's scripting service on a private bus. The real KWin 5.27 answers in
tests/e2e/test_kde_dictation.py."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onevox.desktop.focus import FocusedWindow, FocusReader, focus_blind_reason
from onevox.desktop.kwin import (
    KWinFocus,
    KWinFocusError,
    KWinWindow,
    focus_script,
    is_kwin_wayland,
    parse_answer,
)
from onevox.profiles import KWIN_SOURCE, focus_source
from tests.support.fake_kwin import FakeKWin
from tests.support.fake_portal import PrivateBus

KDE = {"WAYLAND_DISPLAY": "wayland-0", "XDG_CURRENT_DESKTOP": "KDE"}
KONSOLE = ("org.kde.konsole", "konsole", "~ : vim — Konsole")


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[PrivateBus]:
    with PrivateBus.start(tmp_path) as private:
        yield private


def test_the_script_calls_back_with_the_active_window_of_plasma_5_and_6() -> None:
    script = focus_script(":1.42", "/org/onevox/focus/q7")
    assert 'callDBus(":1.42", "/org/onevox/focus/q7", "org.onevox.FocusedWindow", "Focused",' in script
    assert "workspace.activeWindow" in script and "workspace.activeClient" in script  # Plasma 6, Plasma 5
    assert "String(w.resourceClass)" in script and "String(w.caption)" in script


def test_answers_are_parsed_and_anything_else_refused() -> None:
    assert parse_answer(KONSOLE) == KWinWindow(*KONSOLE)
    assert parse_answer(("", "", "")) is None  # no window has the focus
    with pytest.raises(ValueError):
        parse_answer(("a", "b"))
    with pytest.raises(ValueError):
        parse_answer(("a", "b", 3))
    assert KWinWindow(*KONSOLE).app == ("konsole", "org.kde.konsole")  # instance first, as on X11
    assert KWinWindow("foot", "foot", "").app == ("foot",)
    assert KWinWindow("", "python3", "t").app == ("python3",)


def test_only_kde_wayland_sessions_ask_kwin() -> None:
    assert is_kwin_wayland(KDE)
    assert is_kwin_wayland({"XDG_SESSION_TYPE": "wayland", "XDG_CURRENT_DESKTOP": "KDE"})
    assert not is_kwin_wayland({"DISPLAY": ":0", "XDG_CURRENT_DESKTOP": "KDE"})  # Plasma on X11: EWMH
    assert not is_kwin_wayland({**KDE, "XDG_CURRENT_DESKTOP": "GNOME"})
    assert focus_blind_reason(KDE) is None
    assert focus_source(KDE) == (KWIN_SOURCE, None)


@pytest.mark.parametrize("paths", ["plasma5", "plasma6"])
def test_a_lookup_loads_runs_and_unloads_one_script(bus: PrivateBus, paths: str, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir()
    with FakeKWin(bus.address, window=KONSOLE, script_paths=paths) as kwin:
        focus = KWinFocus({"DBUS_SESSION_BUS_ADDRESS": bus.address, "XDG_RUNTIME_DIR": str(runtime)})
        try:
            assert focus.lookup() == KWinWindow(*KONSOLE)
            assert focus.lookup() == KWinWindow(*KONSOLE)
            script = Path(kwin.loaded[0][0])
            assert script.parent.parent == runtime and script.parent.stat().st_mode & 0o077 == 0
        finally:
            focus.close()
        assert not script.exists()
        assert len(kwin.loaded) == 2 and len(kwin.unloaded) == 2  # nothing left running in KWin
        assert len(set(kwin.unloaded)) == 2  # a name of its own each time
        want = "/Scripting/Script1" if paths == "plasma6" else "/1"
        assert kwin.runs[-1] == want  # the second run goes straight to the path that worked


def test_no_active_window_is_none_and_the_reader_says_kwin(bus: PrivateBus) -> None:
    env = {**KDE, "DBUS_SESSION_BUS_ADDRESS": bus.address}
    with FakeKWin(bus.address) as kwin:
        reader = FocusReader(env)
        try:
            assert reader.focused() is None
            kwin.window = KONSOLE
            assert reader.focused() == FocusedWindow(("konsole", "org.kde.konsole"), KONSOLE[2], "kwin")
        finally:
            reader.close()


def test_an_answer_from_anyone_but_kwin_is_not_taken(bus: PrivateBus) -> None:
    with FakeKWin(bus.address, window=KONSOLE, mode="impostor"):
        focus = KWinFocus({"DBUS_SESSION_BUS_ADDRESS": bus.address})
        try:
            assert focus.lookup() == KWinWindow(*KONSOLE)
        finally:
            focus.close()


@pytest.mark.parametrize(("mode", "message"), [
    ("refuse", "KWin refused to load the focused-window script (loadScript answered -1)"),
    ("silent", "KWin did not answer the focused-window script within 0.3 s"),
])
def test_a_refusing_or_silent_kwin_is_one_line_and_the_script_unloaded(bus: PrivateBus, mode: str,
                                                                        message: str) -> None:
    with FakeKWin(bus.address, window=KONSOLE, mode=mode) as kwin:
        focus = KWinFocus({"DBUS_SESSION_BUS_ADDRESS": bus.address}, timeout=0.3)
        started = time.monotonic()
        try:
            with pytest.raises(KWinFocusError, match=re.escape(message)):
                focus.lookup()
        finally:
            focus.close()
        assert time.monotonic() - started < 2
        assert len(kwin.unloaded) == len(kwin.loaded)


def test_no_kwin_no_bus_and_a_reader_that_falls_back(bus: PrivateBus, tmp_path: Path) -> None:
    with pytest.raises(KWinFocusError, match=r"org\.kde\.KWin"):  # a bus without KWin
        KWinFocus({"DBUS_SESSION_BUS_ADDRESS": bus.address}).lookup()
    with pytest.raises(KWinFocusError, match="cannot reach the session bus at unix:path="):
        KWinFocus({"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path / 'none'}"}).lookup()
    with pytest.raises(KWinFocusError, match=r"no session bus \(DBUS_SESSION_BUS_ADDRESS is not set\)"):
        KWinFocus({}).lookup()
    reader = FocusReader({**KDE, "DBUS_SESSION_BUS_ADDRESS": bus.address})  # no KWin, no DISPLAY
    assert reader.focused() is None
    assert reader.focused() is None  # keeps trying, never raises
    reader.close()
