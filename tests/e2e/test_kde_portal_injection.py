"""Text through the real RemoteDesktop portal: xdg-desktop-portal 1.16 with xdg-desktop-portal-kde 5.27 on a
headless KWin 5.27 (tests/support/kde.py) started WITHOUT the fake-input .desktop file for the tests' Python,
as a KDE user who did no setup: paste (wl-copy + KWin fake input) is refused, so "auto" must reach the portal
route. The text is read back from a GTK3 window.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from onevox.config import InjectionConfig
from onevox.inject import create_injector
from onevox.inject.chain import FallbackInjector
from onevox.inject.portal_token import default_token_path
from onevox.inject.rd_portal import PortalInjector
from tests.support.gtk_window import GtkWindow
from tests.support.headless import as_client
from tests.support.kde import HeadlessKWin, kwin_for_tests

pytestmark = [pytest.mark.e2e]

UNICODE = "Grüße, naïve café — 日本語 ✓"


@pytest.fixture(scope="module")
def kwin() -> Iterator[HeadlessKWin]:
    with kwin_for_tests(portal=True, authorise=False) as desktop:
        yield desktop


@pytest.fixture
def on_kwin(kwin: HeadlessKWin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> HeadlessKWin:
    as_client(kwin, monkeypatch)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # where the restore token goes
    return kwin


@pytest.fixture
def window(on_kwin: HeadlessKWin, request: pytest.FixtureRequest) -> Iterator[GtkWindow]:
    win = on_kwin.open_target(request.node.name[:24])
    yield win
    win.proc.terminate()
    win.proc.wait(timeout=5)


def test_auto_reaches_the_portal_when_fake_input_is_not_authorised(window: GtkWindow) -> None:
    injector = create_injector(InjectionConfig(method="auto"), "wayland")
    assert isinstance(injector, FallbackInjector)
    assert [m.name for m in injector.injectors][:2] == ["paste", "portal"]
    try:
        injector.inject("portal ok, typed.")
        window.wait_for_text("portal ok, typed.")
        assert injector.name == "portal"
        injector.inject("\nSecond line: {x} = 42!")
        window.wait_for_text("portal ok, typed.\nSecond line: {x} = 42!")
        assert injector.name == "portal"
    finally:
        injector.close()


def test_unicode_goes_whole_through_the_clipboard_and_the_portal_keys(window: GtkWindow) -> None:
    injector = PortalInjector(InjectionConfig(method="portal", restore_clipboard=False))
    try:
        injector.inject(UNICODE)
        window.wait_for_text(UNICODE)
        injector.inject(" and ascii")
        window.wait_for_text(UNICODE + " and ascii")
    finally:
        injector.close()


def test_the_session_and_what_is_kept(on_kwin: HeadlessKWin, window: GtkWindow) -> None:
    """KDE 5.27's portal starts without a dialog; a token is kept exactly when the portal hands one out
    (RemoteDesktop version 2+), 0600."""
    injector = PortalInjector(InjectionConfig(method="portal"))
    try:
        injector.inject("one")
        window.wait_for_text("one")
        version = injector.session.version
        assert version >= 1 and injector.session.started == 1
        injector.inject(" two")  # the same session
        window.wait_for_text("one two")
        assert injector.session.started == 1
    finally:
        injector.close()
    token = default_token_path()
    if version >= 2:
        assert stat.S_IMODE(token.stat().st_mode) == 0o600, token
    else:
        assert not token.exists()  # version 1 has no persist_mode: nothing to keep
    print(f"\nRemoteDesktop portal version {version}; token kept: {token.exists()}")


def test_a_session_the_portal_closed_is_made_again(on_kwin: HeadlessKWin, window: GtkWindow) -> None:
    from jeepney import DBusAddress, new_method_call

    injector = PortalInjector(InjectionConfig(method="portal"))
    try:
        injector.inject("before")
        window.wait_for_text("before")
        conn, handle = injector.session.conn, injector.session.handle
        assert conn is not None
        closing = new_method_call(DBusAddress(handle, bus_name="org.freedesktop.portal.Desktop",
                                              interface="org.freedesktop.portal.Session"), "Close")
        conn.send_and_get_reply(closing, timeout=5)  # as the desktop ending it
        injector.inject(" after")
        window.wait_for_text("before after")
        assert injector.session.started == 2
    finally:
        injector.close()


def test_doctor_reports_the_portal(on_kwin: HeadlessKWin, tmp_path: Path) -> None:
    """doctor says the portal would type here, and asks without making a session (no dialog)."""
    sessions = on_kwin.portal_log().count("Only stream input")
    env = {**os.environ, "HOME": str(on_kwin.home)}
    done = subprocess.run([sys.executable, "-m", "onevox", "doctor", "--json"], env=env, capture_output=True,
                          timeout=60, check=False)
    assert done.returncode in (0, 1), done.stderr.decode(errors="replace")
    injection = json.loads(done.stdout)["injection"]
    order = {m["method"]: m for m in injection["order"]}
    assert list(order)[:2] == ["paste", "portal"], order
    assert injection["summary"] == "auto: portal first", injection
    assert "org_kde_kwin_fake_input" in order["paste"]["reason"], order["paste"]
    assert order["portal"]["ok"] and order["portal"]["reason"] is None, order["portal"]
    assert sessions > 0 and on_kwin.portal_log().count("Only stream input") == sessions
