"""The remote-desktop method's pure parts: keysyms, what Mutter 43 can type, finding the session bus, and
where `auto` puts it. Against a real Mutter: tests/e2e/test_gnome_injection.py."""

from __future__ import annotations

import pytest

from onevox.config import Config, InjectionConfig, parse_config
from onevox.errors import ConfigError, InjectionError
from onevox.inject import AUTO_ORDER, auto_order, create_injector
from onevox.inject.remote_desktop import (
    RETURN,
    TAB,
    RemoteDesktopInjector,
    keysym_for,
    mutter_keysyms,
    session_bus_address,
)


@pytest.mark.parametrize(("char", "keysym"), [
    ("a", 0x61), ("Z", 0x5A), (" ", 0x20), ("~", 0x7E), ("!", 0x21),
    ("\n", RETURN), ("\t", TAB),
    ("\u00a0", 0xA0), ("é", 0xE9), ("ü", 0xFC), ("ÿ", 0xFF), ("ß", 0xDF),
    ("€", 0x010020AC), ("Ł", 0x01000141), ("ж", 0x01000436), ("😀", 0x0101F600),
])
def test_keysym_for(char: str, keysym: int) -> None:
    assert keysym_for(char) == keysym


@pytest.mark.parametrize("char", ["\x00", "\x07", "\r", "\x1b", "\x7f", "\x85", "\ud800", "ab", ""])
def test_keysym_for_refuses_what_has_no_key(char: str) -> None:
    with pytest.raises(ValueError):
        keysym_for(char)


def test_mutter_keysyms_types_ascii_newline_and_tab() -> None:
    assert mutter_keysyms("Hi!\n\tx") == [0x48, 0x69, 0x21, RETURN, TAB, 0x78]
    assert mutter_keysyms("a\r\nb") == [0x61, RETURN, 0x62]


@pytest.mark.parametrize("text", ["café", "über", "5 €", "ok 😀", "naïve\n", "a\x07b"])
def test_mutter_keysyms_refuses_text_mutter_would_drop(text: str) -> None:
    with pytest.raises(InjectionError, match="refusing the whole text") as exc:
        mutter_keysyms(text)
    odd = [c for c in text if not (c in "\n" or " " <= c <= "~")]
    for char in odd:
        assert f"U+{ord(char):04X}" in str(exc.value)


def test_session_bus_address(tmp_path) -> None:
    (tmp_path / "x").touch()
    given = f"unix:path={tmp_path / 'x'}"
    assert session_bus_address({"DBUS_SESSION_BUS_ADDRESS": given}) == given
    assert session_bus_address({"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"}) is None
    assert session_bus_address({"XDG_RUNTIME_DIR": str(tmp_path)}) is None
    (tmp_path / "bus").touch()
    assert session_bus_address({"XDG_RUNTIME_DIR": str(tmp_path)}) == f"unix:path={tmp_path / 'bus'}"
    assert session_bus_address({}) is None


def test_unavailable_without_a_session_bus() -> None:
    injector = RemoteDesktopInjector(InjectionConfig(method="remote-desktop"), environ={})
    reason = injector.unavailable_reason()
    assert reason is not None and "no D-Bus session bus" in reason
    with pytest.raises(InjectionError, match="remote-desktop: no D-Bus session bus"):
        injector.inject("hello")


def test_unavailable_when_the_bus_cannot_be_reached(tmp_path) -> None:
    injector = RemoteDesktopInjector(InjectionConfig(method="remote-desktop"),
                                     environ={"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/none"})
    reason = injector.unavailable_reason()
    assert reason is not None and "no D-Bus session bus to reach" in reason


def test_config_accepts_remote_desktop() -> None:
    cfg = parse_config('[injection]\nmethod = "remote-desktop"\n')
    assert cfg.injection.method == "remote-desktop"
    injector = create_injector(cfg.injection, session="wayland")
    assert injector.name == "remote-desktop"
    assert isinstance(Config().injection, InjectionConfig)


def test_config_still_refuses_unknown_methods() -> None:
    with pytest.raises(ConfigError):
        parse_config('[injection]\nmethod = "remote_desktop"\n')


@pytest.mark.parametrize(("desktop", "first"), [
    ("GNOME", "remote-desktop"), ("ubuntu:GNOME", "remote-desktop"), ("sway", "wtype"), ("KDE", "paste"),
    ("", "wtype"), ("GNOME-Flashback:GNOME", "remote-desktop"),
])
def test_auto_puts_the_desktops_own_route_first(desktop: str, first: str) -> None:
    order = auto_order("wayland", {"XDG_CURRENT_DESKTOP": desktop})
    assert order[0] == first
    assert sorted(order) == sorted(AUTO_ORDER["wayland"])
    assert auto_order("x11", {"XDG_CURRENT_DESKTOP": desktop}) == AUTO_ORDER["x11"]


def test_auto_on_wayland_tries_remote_desktop_after_wtype(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CURRENT_DESKTOP", raising=False)
    assert AUTO_ORDER["wayland"] == ("wtype", "remote-desktop", "paste", "portal", "ydotool")
    assert "remote-desktop" not in AUTO_ORDER["x11"]
    chain = create_injector(InjectionConfig(), session="wayland")
    assert [m.name for m in chain.injectors] == list(AUTO_ORDER["wayland"])  # type: ignore[attr-defined]
