"""The GlobalShortcuts portal hotkey against the real thing: xdg-desktop-portal 1.16 with
xdg-desktop-portal-kde 5.27 on a headless KWin 5.27 (tests/support/kde.py), keys pressed through KWin's fake
input, so they go KWin -> kglobalaccel (inside KWin) -> xdg-desktop-portal-kde -> xdg-desktop-portal ->
Activated / Deactivated -> the listener -> the gesture.

What KDE 5.27 does (docs/kde.md): CreateSession and BindShortcuts answer success, but BindShortcuts registers
nothing with kglobalaccel (it only opens System Settings' shortcut page for the component, named after the
session token); the key a user assigns there is what fires. The second test assigns the key the way that
page stores it (kglobalaccel's D-Bus API, component "onevox", action "dictate") before the session exists,
because xdg-desktop-portal-kde looks the component up when it creates the session.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import unwrap_msg

from onevox.config import HotkeyConfig
from onevox.desktop.keys import parse_hotkey
from onevox.hotkey import check_backends, create_listener
from onevox.hotkey.gesture import HotkeyGesture
from onevox.hotkey.portal import SESSION_TOKEN, SHORTCUT_ID, PortalHotkeyListener
from onevox.inject.kwin_fake_input import FakeInput
from tests.hotkey.recorder import Recorder
from tests.support.kde import HeadlessKWin, missing_portal_programs, missing_programs
from tests.support.requirements import INSTALL_HINT

pytestmark = [pytest.mark.e2e]

TRIGGER = "ctrl+shift+f9"
QT_CTRL_SHIFT_F9 = 0x04000000 | 0x02000000 | 0x01000038  # Qt::CTRL | Qt::SHIFT | Qt::Key_F9
SET_PRESENT, NO_AUTOLOADING = 2, 4  # KGlobalAccel::SetShortcutFlag


@pytest.fixture(scope="module")
def kwin() -> Iterator[HeadlessKWin]:
    missing = missing_programs() + missing_portal_programs()
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}; {INSTALL_HINT}")
    with HeadlessKWin.start() as desktop:
        desktop.start_portal()
        yield desktop


@pytest.fixture
def on_kwin(kwin: HeadlessKWin, monkeypatch: pytest.MonkeyPatch) -> HeadlessKWin:
    monkeypatch.delenv("DISPLAY", raising=False)
    for key, value in kwin.env.items():
        monkeypatch.setenv(key, value)
    return kwin


def assign_key_in_kglobalaccel(kwin: HeadlessKWin) -> None:
    """What System Settings > Shortcuts does when the user gives the portal's shortcut a key."""
    service = DBusAddress("/kglobalaccel", bus_name="org.kde.kglobalaccel", interface="org.kde.KGlobalAccel")
    action = [SESSION_TOKEN, SHORTCUT_ID, SESSION_TOKEN, "Dictate (onevox)"]
    with open_dbus_connection(kwin.bus_address) as conn:
        register = new_method_call(service, "doRegister", "as", (action,))
        unwrap_msg(conn.send_and_get_reply(register, timeout=5))
        keys = unwrap_msg(conn.send_and_get_reply(new_method_call(
            service, "setShortcut", "asaiu", (action, [QT_CTRL_SHIFT_F9], SET_PRESENT | NO_AUTOLOADING)),
            timeout=5))[0]
    assert list(keys) == [QT_CTRL_SHIFT_F9]


def listener(mode: str = "push-to-talk") -> tuple[PortalHotkeyListener, Recorder, list[str]]:
    rec, problems = Recorder(), list[str]()
    gesture = HotkeyGesture(mode, 0)
    made = PortalHotkeyListener(parse_hotkey(TRIGGER), gesture, rec, on_problem=problems.append)
    return made, rec, problems


def test_the_real_kde_portal_creates_the_session_and_accepts_the_bind(on_kwin: HeadlessKWin) -> None:
    assert check_backends(HotkeyConfig(trigger=TRIGGER), "wayland")[0] == ("portal", None)  # what doctor says
    created = create_listener(HotkeyConfig(trigger=TRIGGER), Recorder())
    assert created is not None and created.backend == "portal"  # "auto" on this Wayland session
    portal, _rec, problems = listener()
    portal.start()
    try:
        assert portal.ready.wait(10), problems
        assert portal.version == 1 and portal.session_handle.endswith(f"/{SESSION_TOKEN}")
        assert portal.bound_trigger == "" and problems == []  # 5.27: success, no key assigned
        log = on_kwin.portal_log()
        assert 'QPair("dictate"' in log and '"preferred_trigger", QVariant(QString, "CTRL+SHIFT+F9")' in log
        assert f"systemsettings://kcm_keys/{SESSION_TOKEN}" in log  # where KDE sends the user
    finally:
        portal.stop()


def test_a_key_assigned_in_kde_reaches_the_gesture_as_press_and_release(on_kwin: HeadlessKWin) -> None:
    assign_key_in_kglobalaccel(on_kwin)
    portal, rec, problems = listener()
    portal.start()
    keys = FakeInput(dict(os.environ))
    try:
        assert portal.ready.wait(10), problems
        combo = parse_hotkey(TRIGGER)
        keys.down(combo)
        assert rec.wait_for(1) == ["start"]  # Activated while the key is held
        time.sleep(0.5)  # held: auto-repeat must not stop or restart anything
        assert rec.commands == ["start"]
        keys.up(combo)
        assert rec.wait_for(2) == ["start", "stop"]  # Deactivated on release: push-to-talk
        keys.press(combo)
        assert rec.wait_for(4) == ["start", "stop", "start", "stop"]
        assert problems == []
    finally:
        keys.close()
        portal.stop()
