from __future__ import annotations

import pytest

from onevox.config import HotkeyConfig
from onevox.errors import HotkeyError
from onevox.hotkey import create_listener
from onevox.hotkey import evdev as evdev_backend
from tests.hotkey.recorder import Recorder


@pytest.fixture
def no_input_devices(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(evdev_backend, "INPUT_GLOB", str(tmp_path / "event*"))


@pytest.fixture
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(var, raising=False)


def test_backend_none_gives_no_listener() -> None:
    assert create_listener(HotkeyConfig(backend="none"), print) is None


@pytest.mark.parametrize(("cfg", "message"), [
    (HotkeyConfig(trigger="ctrl+shift+bogus"), "unknown key 'bogus'"),
    (HotkeyConfig(cancel="esc+f1"), "two non-modifier keys"),
    (HotkeyConfig(trigger="", backend="none"), "empty hotkey"),
])
def test_bad_keys_are_reported(cfg: HotkeyConfig, message: str) -> None:
    with pytest.raises(HotkeyError, match=message):
        create_listener(cfg, print)


def test_explicit_x11_without_a_display_fails_clearly(no_display: None) -> None:
    with pytest.raises(HotkeyError, match="cannot open X display"):
        create_listener(HotkeyConfig(backend="x11"), print)


def test_explicit_evdev_without_keyboards_fails_clearly(no_input_devices: None) -> None:
    with pytest.raises(HotkeyError, match="no keyboard"):
        create_listener(HotkeyConfig(backend="evdev"), print)


def test_auto_with_nothing_usable_is_none(no_display: None, no_input_devices: None) -> None:
    assert create_listener(HotkeyConfig(), print) is None


def test_auto_on_wayland_does_not_use_xwayland(monkeypatch: pytest.MonkeyPatch,
                                               no_input_devices: None) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-1")
    monkeypatch.setenv("DISPLAY", ":99")  # XWayland: global grabs there only see X windows
    assert create_listener(HotkeyConfig(), print) is None


@pytest.mark.e2e
def test_auto_on_x11_listens_on_the_display(desktop) -> None:
    rec = Recorder()
    listener = create_listener(HotkeyConfig(trigger="ctrl+alt+d", mode="toggle"), rec)
    assert listener is not None and listener.backend == "x11"
    listener.start()
    try:
        desktop.xdotool("key", "ctrl+alt+d")
        assert rec.wait_for(1) == ["start"]
    finally:
        listener.stop()
