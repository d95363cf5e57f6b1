"""The portal method (the XDG RemoteDesktop portal) against a test double of the portal on a private bus
(tests/support/fake_remote_desktop.py): consent asked once and the restore token kept, the token passed on
the next run, a cancelled or refused consent, a session the desktop closed, text the portal cannot type.
Against the real xdg-desktop-portal-kde on a headless KWin: tests/e2e/test_kde_portal_injection.py."""

from __future__ import annotations

import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onevox.config import InjectionConfig
from onevox.desktop.keys import parse_hotkey
from onevox.errors import InjectionError
from onevox.inject import auto_order
from onevox.inject.base import InjectionMethod
from onevox.inject.chain import FallbackInjector
from onevox.inject.keys import create_key_sender
from onevox.inject.portal_token import RestoreTokenStore, default_token_path
from onevox.inject.rd_portal import PortalInjector, chord_keysyms
from onevox.inject.rd_portal_session import NO_PORTAL, NOT_OFFERED
from tests.support.fake_portal import PrivateBus
from tests.support.fake_remote_desktop import FakeRemoteDesktop
from tests.support.requirements import require_program


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[PrivateBus]:
    require_program("dbus-daemon")
    with PrivateBus.start(tmp_path) as b:
        yield b


@pytest.fixture
def tokens(tmp_path: Path) -> RestoreTokenStore:
    return RestoreTokenStore(tmp_path / "state" / "onevox" / "remote-desktop-portal.token")


def injector(bus: PrivateBus, tokens: RestoreTokenStore, *, type_delay_ms: int = 0,
             consent_timeout: float = 10.0) -> PortalInjector:
    env = {"DBUS_SESSION_BUS_ADDRESS": bus.address}  # no WAYLAND_DISPLAY: no clipboard to paste with
    return PortalInjector(InjectionConfig(method="portal", type_delay_ms=type_delay_ms), env, tokens=tokens,
                          consent_timeout=consent_timeout, call_timeout=3.0)


class Recorder(InjectionMethod):
    name = "next"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def unavailable_reason(self) -> str | None:
        return None

    def _deliver(self, text: str) -> None:
        self.texts.append(text)


def test_first_start_asks_consent_once_and_keeps_the_token_private(bus: PrivateBus,
                                                                   tokens: RestoreTokenStore) -> None:
    with FakeRemoteDesktop(bus.address) as portal:
        inj = injector(bus, tokens)
        try:
            assert inj.unavailable_reason() is None
            assert portal.rd.created == []  # asking whether it can work opens nothing
            inj.inject("Hello, world!\n\tsecond line ~ {ok}")
            inj.inject(" more")
            assert portal.typed() == "Hello, world!\n\tsecond line ~ {ok} more"
            assert [state for _k, state in portal.rd.keys[:4]] == [1, 0, 1, 0]  # each key pressed, released
            assert len(portal.rd.created) == 1 and portal.consents == 1  # one session serves both
            assert portal.rd.selected == [{"types": 1, "persist_mode": 2}]
        finally:
            inj.close()
        deadline = time.monotonic() + 3  # Close expects no reply: the portal gets it a moment later
        while portal.rd.closed != portal.rd.created and time.monotonic() < deadline:
            time.sleep(0.02)
        assert portal.rd.closed == portal.rd.created
    assert tokens.path.read_text() == "restore-1\n"
    assert stat.S_IMODE(tokens.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(tokens.path.parent.stat().st_mode) == 0o700
    assert [p.name for p in tokens.path.parent.iterdir()] == [tokens.path.name]  # no temporary file left


def test_the_next_run_passes_the_token_and_is_not_asked(bus: PrivateBus, tokens: RestoreTokenStore) -> None:
    with FakeRemoteDesktop(bus.address) as portal:
        first = injector(bus, tokens)
        first.inject("one")
        first.close()
        second = injector(bus, tokens)  # a new daemon run: only the file carries the consent over
        try:
            second.inject("two")
        finally:
            second.close()
        assert portal.typed() == "onetwo"
        assert portal.consents == 1
        assert portal.rd.selected[1] == {"types": 1, "persist_mode": 2, "restore_token": "restore-1"}
    assert tokens.load() == "restore-2"  # the spent token replaced by the new one


def test_the_token_lives_in_the_state_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    assert default_token_path() == tmp_path / "st" / "onevox" / "remote-desktop-portal.token"


def test_a_first_version_portal_gets_no_persist_options(bus: PrivateBus, tokens: RestoreTokenStore) -> None:
    with FakeRemoteDesktop(bus.address, rd_version=1) as portal:
        inj = injector(bus, tokens)
        try:
            inj.inject("abc")
        finally:
            inj.close()
        assert portal.typed() == "abc"
        assert portal.rd.selected == [{"types": 1}]
    assert not tokens.path.exists()


@pytest.mark.parametrize(("answer", "line"), [
    ("cancel", "typing through the RemoteDesktop portal was not allowed (Start cancelled in the desktop's "
               "dialog); restart onevox to be asked again, or choose another [injection] method"),
    ("refuse", "the desktop refused typing through the RemoteDesktop portal (Start answered 2); allow onevox "
               "remote control in the desktop's privacy settings, then restart onevox"),
])
def test_a_cancelled_or_refused_consent_is_one_line_and_auto_moves_on(
        bus: PrivateBus, tokens: RestoreTokenStore, answer: str, line: str) -> None:
    with FakeRemoteDesktop(bus.address, start=answer) as portal:
        inj, after = injector(bus, tokens), Recorder()
        chain = FallbackInjector([inj, after], "wayland")
        try:
            chain.inject("first")
            assert after.texts == ["first"] and chain.name == "next"
            assert inj.unavailable_reason() == line
            with pytest.raises(InjectionError) as exc:
                inj.inject("direct")
            assert str(exc.value) == f"portal: {line}"
            chain.inject("second")  # not asked again in this run
            assert after.texts == ["first", "second"]
        finally:
            inj.close()
        assert portal.consents == 1 and portal.rd.keys == []
    assert not tokens.path.exists()


def test_a_session_the_desktop_closed_is_made_again(bus: PrivateBus, tokens: RestoreTokenStore) -> None:
    with FakeRemoteDesktop(bus.address) as portal:
        inj = injector(bus, tokens)
        try:
            inj.inject("before")
            portal.close_session()
            time.sleep(0.1)
            inj.inject(" after")
            assert len(portal.rd.created) == 2
            portal.forget_session()  # gone without a signal: the first key finds out
            inj.inject(" again")
            assert len(portal.rd.created) == 3
        finally:
            inj.close()
        assert portal.typed() == "before after again"
        assert portal.consents == 1  # each new session came back with the kept token


def test_the_portal_gone_from_the_bus_is_found_again(bus: PrivateBus, tokens: RestoreTokenStore) -> None:
    inj = injector(bus, tokens)
    try:
        with FakeRemoteDesktop(bus.address) as portal:
            inj.inject("one")
        with FakeRemoteDesktop(bus.address) as again:
            again.issued = portal.issued  # the same desktop, restarted: it knows the token
            inj.inject("two")  # the old session is refused at the first key: a new one types it all
            assert again.typed() == "two" and again.consents == 0 and len(again.rd.created) == 1
    finally:
        inj.close()


@pytest.mark.parametrize("text", ["café", "naïve — ok", "5 €", "✓ done"])
def test_text_the_layout_cannot_type_is_refused_whole(bus: PrivateBus, tokens: RestoreTokenStore,
                                                      monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """No data-control clipboard (GNOME's Mutter): one line naming every such character, nothing typed."""
    monkeypatch.setattr("onevox.desktop.wayland.wayland_globals",
                        lambda path, timeout=1.0: ("wl_seat", "zwp_text_input_manager_v3"))
    with FakeRemoteDesktop(bus.address) as portal:
        inj = injector(bus, tokens)
        inj.environ = {**(inj.environ or {}), "WAYLAND_DISPLAY": "wayland-x", "XDG_RUNTIME_DIR": "/run/x"}
        try:
            with pytest.raises(InjectionError) as exc:
                inj.inject(text)
        finally:
            inj.close()
        message = str(exc.value)
        assert "refusing the whole text" in message and "no data-control clipboard" in message
        for char in {c for c in text if not " " <= c <= "~"}:
            assert f"U+{ord(char):04X}" in message
        assert portal.rd.keys == []


def test_closing_ends_a_wait_for_consent_at_once(bus: PrivateBus, tokens: RestoreTokenStore) -> None:
    """The user leaves the dialog open: closing the injector (daemon shutdown) does not wait for them."""
    with FakeRemoteDesktop(bus.address, start_delay=30.0) as portal:
        inj = injector(bus, tokens, consent_timeout=60.0)
        failed: list[str] = []

        def dictate() -> None:
            try:
                inj.inject("waiting")
            except InjectionError as exc:
                failed.append(str(exc))

        worker = threading.Thread(target=dictate)
        worker.start()
        deadline = time.monotonic() + 5
        while not portal.rd.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert portal.rd.started, portal.calls.methods
        t0 = time.monotonic()
        inj.close()
        worker.join(timeout=5)
        assert not worker.is_alive() and time.monotonic() - t0 < 2.0
        assert failed and "abandoned" in failed[0], failed
        assert portal.rd.keys == []


def test_a_consent_not_given_in_time_is_one_line(bus: PrivateBus, tokens: RestoreTokenStore) -> None:
    with FakeRemoteDesktop(bus.address, start_delay=3.0):
        inj = injector(bus, tokens, consent_timeout=0.5)
        try:
            with pytest.raises(InjectionError, match="Start was not allowed in the desktop's dialog within"):
                inj.inject("x")
        finally:
            inj.close()


def test_unavailable_reasons_open_no_session(bus: PrivateBus, tokens: RestoreTokenStore) -> None:
    inj = injector(bus, tokens)
    assert inj.unavailable_reason() == NO_PORTAL  # the private bus activates nothing
    with FakeRemoteDesktop(bus.address, rd_version=None) as portal:
        assert inj.unavailable_reason() == NOT_OFFERED
    with FakeRemoteDesktop(bus.address, device_types=2) as portal:
        assert inj.unavailable_reason() == "this desktop's RemoteDesktop portal offers no keyboard"
        assert portal.rd.created == [] and portal.consents == 0
    gone = PortalInjector(InjectionConfig(), {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"})
    assert "no D-Bus session bus" in (gone.unavailable_reason() or "")


KDE_PORTAL_FILE = "[portal]\nDBusName=org.freedesktop.impl.portal.desktop.kde\n" \
    "Interfaces=org.freedesktop.impl.portal.RemoteDesktop;org.freedesktop.impl.portal.GlobalShortcuts\nUseIn=KDE\n"


@pytest.mark.parametrize(("desktop", "reason"), [("GNOME", NOT_OFFERED), ("KDE", None)])
def test_a_backend_made_for_another_desktop_does_not_count(bus: PrivateBus, tokens: RestoreTokenStore,
                                                            monkeypatch: pytest.MonkeyPatch, desktop: str,
                                                            reason: str | None) -> None:
    """xdg-desktop-portal 1.16 exports KDE's RemoteDesktop on GNOME when that is the only backend having it;
    it cannot type into Mutter."""
    monkeypatch.setattr("onevox.desktop.portals.read_portal_files", lambda: [KDE_PORTAL_FILE])
    with FakeRemoteDesktop(bus.address) as portal:
        inj = injector(bus, tokens)
        inj.environ = {**(inj.environ or {}), "XDG_CURRENT_DESKTOP": desktop}
        assert inj.unavailable_reason() == reason
        assert portal.rd.created == []


def test_type_delay_is_kept(bus: PrivateBus, tokens: RestoreTokenStore) -> None:
    with FakeRemoteDesktop(bus.address) as portal:
        inj = injector(bus, tokens, type_delay_ms=20)
        try:
            inj.inject("x")  # the session (and the consent) first
            t0 = time.monotonic()
            inj.inject("abcdef")
            elapsed = time.monotonic() - t0
        finally:
            inj.close()
        assert portal.typed() == "xabcdef"
        assert elapsed >= 5 * 0.02


def test_edit_keys_go_through_the_same_route(bus: PrivateBus, tokens: RestoreTokenStore,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """'scratch that' presses BackSpace through the portal where it is the way keys reach windows."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    monkeypatch.setenv("XDG_STATE_HOME", str(tokens.path.parent.parent))
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", "KDE")
    keys = create_key_sender(InjectionConfig(), "wayland")
    assert [s.name for s in keys.senders] == ["portal", "wtype", "remote-desktop", "ydotool"]
    portal_keys = keys.senders[0]
    with FakeRemoteDesktop(bus.address) as portal:
        try:
            portal_keys.press("backspace", 3)
            portal_keys.press("enter")
        finally:
            portal_keys.injector.close()  # type: ignore[attr-defined]
        assert portal.rd.keys == [(0xFF08, 1), (0xFF08, 0)] * 3 + [(0xFF0D, 1), (0xFF0D, 0)]


def test_paste_chord_keysyms() -> None:
    assert chord_keysyms(parse_hotkey("ctrl+v")) == [0xFFE3, 0x76]
    assert chord_keysyms(parse_hotkey("ctrl+shift+v")) == [0xFFE3, 0xFFE1, 0x76]
    assert chord_keysyms(parse_hotkey("shift+insert")) == [0xFFE1, 0xFF63]


@pytest.mark.parametrize(("desktop", "order"), [
    ("KDE", ("paste", "portal", "wtype", "remote-desktop", "ydotool")),
    ("GNOME", ("remote-desktop", "portal", "wtype", "paste", "ydotool")),
    ("sway", ("wtype", "remote-desktop", "paste", "portal", "ydotool")),
])
def test_auto_order_places_the_portal(desktop: str, order: tuple[str, ...]) -> None:
    assert auto_order("wayland", {"XDG_CURRENT_DESKTOP": desktop}) == order


def test_token_store_survives_bad_files(tmp_path: Path) -> None:
    store = RestoreTokenStore(tmp_path / "s" / "t")
    assert store.load() is None
    store.path.parent.mkdir()
    store.path.write_bytes(b"\xff\xfe")
    assert store.load() is None
    store.path.write_text("")
    assert store.load() is None
    store.save("abc-123")
    assert store.load() == "abc-123"
    store.clear()
    assert store.load() is None
