"""The Wayland injection methods for real, on headless sway (tests/support/wayland.py) with GTK3 windows:
wtype typing, wl-copy + wtype pasting (the paste keys GTK 3 takes, the clipboard put back), and terminals
recognised through sway's IPC so that they get ctrl+shift+v. The injectors run here, in the test process,
pointed at the test user's compositor."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from onevox.config import InjectionConfig
from onevox.inject import create_injector
from onevox.inject.paste import PasteInjector
from onevox.inject.tools import WtypeInjector
from onevox.inject.window import sway_focused_app
from tests.support.gtk_window import GtkWindow
from tests.support.wayland import SwaySession

pytestmark = pytest.mark.e2e

UNICODE = "naïve café Ü — 🙂 Grüße"


@pytest.fixture(scope="module")
def sway() -> Iterator[SwaySession]:
    with SwaySession.start() as session:
        yield session


@pytest.fixture
def on_sway(sway: SwaySession, monkeypatch: pytest.MonkeyPatch) -> SwaySession:
    """This process pointed at the sway desktop, as the daemon of a sway user is."""
    monkeypatch.delenv("DISPLAY", raising=False)
    for key in ("WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "SWAYSOCK", "XDG_SESSION_TYPE", "LANG"):
        monkeypatch.setenv(key, sway.env[key])
    return sway


def clipboard(sway: SwaySession) -> str | None:
    done = sway.run(["wl-paste", "--no-newline"], check=False)
    return done.stdout.decode("utf-8") if done.returncode == 0 else None


def set_clipboard(sway: SwaySession, text: str) -> None:
    sway.spawn(["wl-copy", text]).wait(timeout=10)


@pytest.mark.parametrize("delay", [0, 2])
def test_wtype_types_unicode_whole(on_sway: SwaySession, delay: int) -> None:
    window = on_sway.open_target("typed")
    WtypeInjector(InjectionConfig(type_delay_ms=delay), session="wayland").inject(UNICODE)
    window.wait_for_text(UNICODE)


def test_paste_reaches_a_gtk3_window_and_puts_the_clipboard_back(on_sway: SwaySession) -> None:
    window = on_sway.open_target("pasted")
    set_clipboard(on_sway, "the user's copy")
    injector = PasteInjector(InjectionConfig(), session="wayland")
    assert sway_focused_app() == "onevox-target"
    injector.inject(UNICODE)
    window.wait_for_text(UNICODE)
    assert injector.last_keys == "ctrl+v"
    assert injector.wait_restored(5.0)
    assert clipboard(on_sway) == "the user's copy"
    injector.close()


def test_a_terminal_gets_ctrl_shift_v(on_sway: SwaySession) -> None:
    """The window's app_id, from sway's IPC, says terminal: ctrl+v would type a literal ^V there."""
    window: GtkWindow = on_sway.open_target("terminal", app_id="foot", terminal=True)
    assert sway_focused_app() == "foot"
    injector = PasteInjector(InjectionConfig(restore_clipboard=False), session="wayland")
    injector.inject("ls -l ~/Документы")
    window.wait_for_text("ls -l ~/Документы")
    assert injector.last_keys == "ctrl+shift+v"
    injector.close()


def test_auto_types_with_wtype_on_wayland(on_sway: SwaySession) -> None:
    window = on_sway.open_target("auto")
    injector = create_injector(InjectionConfig(method="auto"), session="wayland")
    injector.inject("auto 🙂")
    window.wait_for_text("auto 🙂")
    assert injector.name == "wtype"
    injector.close()


def test_without_the_terminal_rule_the_stand_in_would_get_a_literal_ctrl_v(on_sway: SwaySession) -> None:
    """The terminal stand-in is a fair one: plain ctrl+v does not paste there."""
    window = on_sway.open_target("not-told", app_id="foot", terminal=True)
    injector = PasteInjector(InjectionConfig(restore_clipboard=False, terminal_classes=[]), session="wayland")
    injector.inject("pasted")
    window.wait_for_text("^V")
    assert injector.last_keys == "ctrl+v"
    injector.close()
