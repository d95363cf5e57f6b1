"""The edit commands' key senders on Wayland (wtype, ydotool as recorded fakes; GNOME's RemoteDesktop service
is the injector's own, tested in test_remote_desktop.py) and the order they are tried in. XTEST on a real X
server: test_edits_x11.py."""

from __future__ import annotations

import pytest

from onevox.config import InjectionConfig
from onevox.errors import InjectionError
from onevox.inject.edits import EditRefused, create_editor
from onevox.inject.keys import create_key_sender
from tests.inject.fakebin import FakeBin


@pytest.fixture
def fake(tmp_path, monkeypatch: pytest.MonkeyPatch) -> FakeBin:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-test")
    monkeypatch.delenv("XDG_CURRENT_DESKTOP", raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # no session bus there: no RemoteDesktop
    return FakeBin(tmp_path, monkeypatch)


def test_wtype_presses_each_key_and_names_a_spare_key_last(fake: FakeBin) -> None:
    fake.add("wtype")
    keys = create_key_sender(InjectionConfig(), "wayland")
    keys.press("backspace", 3)
    assert (fake.log / "wtype.args").read_text().split() == ["-k", "BackSpace"] * 3 + ["-p", "F24"]
    keys.press("enter")
    assert (fake.log / "wtype.args").read_text().split() == ["-k", "Return", "-p", "F24"]
    assert keys.name == "wtype"


def test_ydotool_gets_raw_key_codes_when_wtype_is_missing(fake: FakeBin) -> None:
    fake.add("ydotool")
    keys = create_key_sender(InjectionConfig(), "wayland")
    keys.press("tab", 2)
    assert (fake.log / "ydotool.args").read_text().split() == ["key", "15:1", "15:0", "15:1", "15:0"]
    assert keys.name == "ydotool"


def test_no_way_to_press_keys_says_why(fake: FakeBin) -> None:
    keys = create_key_sender(InjectionConfig(), "wayland")
    with pytest.raises(InjectionError, match=r"wtype is not installed.*ydotool is not installed"):
        keys.press("enter")


def test_a_failing_tool_is_an_injection_error(fake: FakeBin) -> None:
    fake.add("wtype", exit_code=1, stderr="Compositor does not support the virtual keyboard protocol")
    with pytest.raises(InjectionError, match="virtual keyboard protocol"):
        create_key_sender(InjectionConfig(), "wayland").press("enter")


def test_wayland_scratch_refuses_with_the_reason_and_sends_nothing(fake: FakeBin) -> None:
    fake.add("wtype")
    editor = create_editor(InjectionConfig(), "wayland")
    editor.typed(1, "Dictated. ")
    with pytest.raises(EditRefused, match="Wayland lets no program see your typing"):
        editor.scratch()
    assert not (fake.log / "wtype.args").exists()
    assert editor.press("enter") == "pressed enter"
    assert (fake.log / "wtype.args").read_text().split() == ["-k", "Return", "-p", "F24"]
