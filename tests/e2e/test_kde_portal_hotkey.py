"""The GlobalShortcuts portal hotkey against the real thing: xdg-desktop-portal 1.16 with
xdg-desktop-portal-kde 5.27 on a headless KWin 5.27 (tests/support/kde.py), keys pressed through KWin's fake
input, so they go KWin -> kglobalaccel (inside KWin) -> xdg-desktop-portal-kde -> xdg-desktop-portal ->
Activated / Deactivated -> the listener -> the gesture.

KDE 5.27's portal answers BindShortcuts with success and registers nothing (docs/kde.md); the listener then
registers its action with kglobalaccel in the component the portal forwards (named after the session token)
and makes the session again. On a later start it finds that done and does not bind again (which on 5.27
would open System Settings at every start).
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
from onevox.hotkey.kglobalaccel import qt_key
from onevox.hotkey.portal import SESSION_TOKEN, SHORTCUT_ID, PortalHotkeyListener
from onevox.inject.kwin_fake_input import FakeInput
from tests.hotkey.recorder import Recorder
from tests.support.headless import as_client
from tests.support.kde import HeadlessKWin, kwin_for_tests

pytestmark = [pytest.mark.e2e]

TRIGGER = "ctrl+shift+f9"
QT_CTRL_SHIFT_F9 = 0x04000000 | 0x02000000 | 0x01000038  # Qt::CTRL | Qt::SHIFT | Qt::Key_F9


@pytest.fixture(scope="module")
def kwin() -> Iterator[HeadlessKWin]:
    with kwin_for_tests(portal=True) as desktop:
        yield desktop


@pytest.fixture
def on_kwin(kwin: HeadlessKWin, monkeypatch: pytest.MonkeyPatch) -> HeadlessKWin:
    as_client(kwin, monkeypatch)
    return kwin


def kglobalaccel_keys(kwin: HeadlessKWin, token: str = SESSION_TOKEN) -> list[int]:
    """The keys kglobalaccel holds for onevox's action (what System Settings > Shortcuts shows)."""
    service = DBusAddress("/kglobalaccel", bus_name="org.kde.kglobalaccel", interface="org.kde.KGlobalAccel")
    action = [token, SHORTCUT_ID, "", ""]
    with open_dbus_connection(kwin.bus_address) as conn:
        return list(unwrap_msg(conn.send_and_get_reply(new_method_call(service, "shortcut", "as", (action,)),
                                                       timeout=5))[0])


def hold_and_release(rec: Recorder, trigger: str = TRIGGER) -> None:
    combo = parse_hotkey(trigger)
    keys = FakeInput(dict(os.environ))
    try:
        keys.down(combo)
        assert rec.wait_for(1) == ["start"]  # Activated while the key is held
        time.sleep(0.5)  # held: kglobalaccel's repeated presses must not stop or restart anything
        assert rec.commands == ["start"]
        keys.up(combo)
        assert rec.wait_for(2) == ["start", "stop"]  # Deactivated on release: push-to-talk
        keys.press(combo)
        assert rec.wait_for(4) == ["start", "stop", "start", "stop"]
    finally:
        keys.close()


def listener(trigger: str = TRIGGER, token: str = SESSION_TOKEN
             ) -> tuple[PortalHotkeyListener, Recorder, list[str]]:
    rec, problems = Recorder(), list[str]()
    made = PortalHotkeyListener(parse_hotkey(trigger), HotkeyGesture("push-to-talk", 0), rec,
                                on_problem=problems.append, session_token=token)
    return made, rec, problems


def give_key(kwin: HeadlessKWin, component: str, action: str, trigger: str) -> None:
    """Another application's shortcut, or one a user stored in System Settings before."""
    service = DBusAddress("/kglobalaccel", bus_name="org.kde.kglobalaccel", interface="org.kde.KGlobalAccel")
    names = [component, action, component, action]
    with open_dbus_connection(kwin.bus_address) as conn:
        unwrap_msg(conn.send_and_get_reply(new_method_call(service, "doRegister", "as", (names,)), timeout=5))
        unwrap_msg(conn.send_and_get_reply(new_method_call(
            service, "setShortcut", "asaiu", (names, [qt_key(parse_hotkey(trigger))], 2 | 4)), timeout=5))


def test_first_start_binds_through_the_real_portal_and_press_release_arrive(on_kwin: HeadlessKWin) -> None:
    assert check_backends(HotkeyConfig(trigger=TRIGGER), "wayland")[0] == ("portal", None)  # what doctor says
    created = create_listener(HotkeyConfig(trigger=TRIGGER), Recorder())
    assert created is not None and created.backend == "portal"  # "auto" on this Wayland session
    portal, rec, problems = listener()
    portal.start()
    try:
        assert portal.ready.wait(10), problems
        assert portal.version == 1 and portal.session_handle.endswith(f"/{SESSION_TOKEN}")
        assert portal.via_kglobalaccel and problems == []
        log = on_kwin.portal_log()
        assert log.count("BindShortcuts called") == 1
        assert 'QPair("dictate"' in log and '"preferred_trigger", QVariant(QString, "CTRL+SHIFT+F9")' in log
        assert f"systemsettings://kcm_keys/{SESSION_TOKEN}" in log  # where KDE 5.27 sends the user
        assert kglobalaccel_keys(on_kwin) == [QT_CTRL_SHIFT_F9]
        hold_and_release(rec)
        assert problems == []
    finally:
        portal.stop()


def test_a_second_start_finds_the_key_and_does_not_bind_again(on_kwin: HeadlessKWin) -> None:
    first, _rec, problems = listener()  # set up already when the test above ran; else here
    first.start()
    assert first.ready.wait(10), problems
    first.stop()
    binds = on_kwin.portal_log().count("BindShortcuts called")
    portal, rec, problems = listener()
    portal.start()
    try:
        assert portal.ready.wait(10), problems
        assert portal.via_kglobalaccel
        assert on_kwin.portal_log().count("BindShortcuts called") == binds  # no bind, no settings page
        hold_and_release(rec)
    finally:
        portal.stop()


def test_a_key_stored_in_kde_before_is_kept(on_kwin: HeadlessKWin) -> None:
    give_key(on_kwin, "onevox_kept", SHORTCUT_ID, "ctrl+shift+f10")  # the user chose it in System Settings
    portal, rec, problems = listener(token="onevox_kept")
    portal.start()
    try:
        assert portal.ready.wait(10), problems
        assert kglobalaccel_keys(on_kwin, "onevox_kept") == [qt_key(parse_hotkey("ctrl+shift+f10"))]
        hold_and_release(rec, "ctrl+shift+f10")
    finally:
        portal.stop()


def test_a_key_another_shortcut_holds_is_one_clear_line(on_kwin: HeadlessKWin) -> None:
    give_key(on_kwin, "someone-else", "their-action", "ctrl+shift+f11")
    portal, _rec, problems = listener("ctrl+shift+f11", token="onevox_taken")
    portal.start()
    try:
        deadline = time.monotonic() + 10
        while not problems and time.monotonic() < deadline:
            time.sleep(0.05)
        assert problems == ["KDE refused ctrl+shift+f11 for the dictation shortcut (another shortcut has "
                            "it?): choose a key for \"Dictate (onevox)\" in System Settings > Shortcuts > "
                            "onevox, then restart onevox"]
        assert not portal.ready.is_set()
    finally:
        portal.stop()
