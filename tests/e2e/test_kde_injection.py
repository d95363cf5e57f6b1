"""Text into a real GTK3 window on headless KDE KWin 5.27 (tests/support/kde.py), read back from the window.

What KWin offers an ordinary client, measured here: no zwp_virtual_keyboard_v1 (wtype fails), the
wlr data-control clipboard (wl-copy works), and org_kde_kwin_fake_input once a .desktop file authorises the
client's executable. So the paste method on KDE is wl-copy + the paste keys through fake input. KWin's global
shortcuts (kglobalaccel, in-process in KWin 5.27) fire for keys sent through fake input.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest
from jeepney import DBusAddress, MatchRule, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import unwrap_msg

from onevox.config import InjectionConfig
from onevox.desktop.keys import parse_hotkey
from onevox.errors import InjectionError
from onevox.inject import create_injector
from onevox.inject.kwin_fake_input import FakeInput
from onevox.inject.paste import PasteInjector
from tests.support.gtk_window import GtkWindow
from tests.support.headless import as_client
from tests.support.kde import HeadlessKWin, kwin_for_tests

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def kwin() -> Iterator[HeadlessKWin]:
    with kwin_for_tests() as desktop:
        yield desktop


@pytest.fixture
def on_kwin(kwin: HeadlessKWin, monkeypatch: pytest.MonkeyPatch) -> HeadlessKWin:
    """This process (and the wl-copy it runs) as a client of the headless KWin."""
    as_client(kwin, monkeypatch)
    return kwin


@pytest.fixture
def window(on_kwin: HeadlessKWin, request: pytest.FixtureRequest) -> Iterator[GtkWindow]:
    win = on_kwin.open_target(request.node.name[:24])
    yield win
    win.proc.terminate()
    win.proc.wait(timeout=5)


def test_wtype_finds_no_virtual_keyboard(on_kwin: HeadlessKWin) -> None:
    done = subprocess.run(["wtype", "x"], capture_output=True, text=True, timeout=10, check=False)
    assert done.returncode != 0
    assert "virtual keyboard protocol" in done.stderr


def test_paste_through_fake_input(window: GtkWindow) -> None:
    injector = PasteInjector(InjectionConfig(method="paste"), "wayland")
    try:
        assert injector.unavailable_reason() is None
        injector.inject("Grüße, naïve café — 日本語 ✓")
        window.wait_for_text("Grüße, naïve café — 日本語 ✓")
        assert injector.last_backend == "wl-copy+kwin-fake-input"
        injector.inject("\nsecond line")
        window.wait_for_text("Grüße, naïve café — 日本語 ✓\nsecond line")
    finally:
        injector.close()


def test_auto_pastes_on_kde(window: GtkWindow) -> None:
    injector = create_injector(InjectionConfig(method="auto"), "wayland")
    try:
        injector.inject("hello from auto")
        window.wait_for_text("hello from auto")
        assert injector.name == "paste"
    finally:
        injector.close()


def test_global_shortcut_fires_for_fake_input_keys(on_kwin: HeadlessKWin) -> None:
    """A shortcut registered with kglobalaccel over D-Bus fires when its keys are pressed (how a KDE user
    binds onevox's hotkey: a global shortcut, set in System Settings)."""
    service = DBusAddress("/kglobalaccel", bus_name="org.kde.kglobalaccel", interface="org.kde.KGlobalAccel")
    action = ["onevox-test", "start-dictation", "onevox test", "Start dictation"]
    with open_dbus_connection(on_kwin.bus_address) as conn:
        register = new_method_call(service, "doRegister", "as", (action,))
        unwrap_msg(conn.send_and_get_reply(register, timeout=5))
        ctrl_shift_f9 = 0x04000000 | 0x02000000 | 0x01000038  # Qt::CTRL | Qt::SHIFT | Qt::Key_F9
        unwrap_msg(conn.send_and_get_reply(
            new_method_call(service, "setShortcut", "asaiu", (action, [ctrl_shift_f9], 2 | 4)), timeout=5))
        path = unwrap_msg(conn.send_and_get_reply(
            new_method_call(service, "getComponent", "s", ("onevox-test",)), timeout=5))[0]
        rule = MatchRule(type="signal", interface="org.kde.kglobalaccel.Component", path=path)
        unwrap_msg(conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=5))
        keys = FakeInput()
        try:
            keys.press(parse_hotkey("ctrl+shift+f9"))
        finally:
            keys.close()
        seen: list[str] = []
        deadline = time.monotonic() + 5
        while "globalShortcutReleased" not in seen and time.monotonic() < deadline:
            try:
                msg = conn.receive(timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
            if msg.body[:2] == ("onevox-test", "start-dictation"):
                seen.append(str(msg.header.fields.get(3)))  # 3: the member
        assert seen[:1] == ["globalShortcutPressed"] and "globalShortcutReleased" in seen, seen


def test_unauthorised_client_gets_no_fake_input() -> None:
    """Without the .desktop file KWin hides the protocol, and the error says what to install."""
    with HeadlessKWin.start(authorise=False) as bare:
        env = {**bare.env}
        with pytest.raises(InjectionError, match="X-KDE-Wayland-Interfaces=org_kde_kwin_fake_input"):
            FakeInput(env)
