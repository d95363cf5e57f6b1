"""Text into a real GTK3 window on headless GNOME Mutter 43 through the remote-desktop method (Mutter's own
RemoteDesktop D-Bus service), read back from the window. See tests/support/gnome.py for the arrangement."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from onevox.config import InjectionConfig
from onevox.errors import InjectionError
from onevox.inject import create_injector
from onevox.inject.remote_desktop import RemoteDesktopInjector
from tests.support.gnome import HeadlessGnome, RemoteDesktopClient, missing_programs, read_clipboard
from tests.support.gtk_window import GtkWindow
from tests.support.requirements import INSTALL_HINT

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def gnome() -> Iterator[HeadlessGnome]:
    missing = missing_programs()
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}; {INSTALL_HINT}")
    with HeadlessGnome.start() as desktop:
        yield desktop


@pytest.fixture
def window(gnome: HeadlessGnome, request: pytest.FixtureRequest) -> Iterator[GtkWindow]:
    win = gnome.open_target(request.node.name[:24])
    yield win
    win.close()


@pytest.fixture
def injector(gnome: HeadlessGnome) -> Iterator[RemoteDesktopInjector]:
    inj = RemoteDesktopInjector(InjectionConfig(method="remote-desktop"), environ=gnome.env)
    yield inj
    inj.close()


def test_available_on_gnome(injector: RemoteDesktopInjector) -> None:
    assert injector.unavailable_reason() is None


def test_types_ascii_newline_and_tab(window: GtkWindow, injector: RemoteDesktopInjector) -> None:
    injector.inject("Hello, World! 0123456789 ~`!@#$%^&*()_+-=[]{}|;':\",./<>?\\")
    injector.inject("\nsecond line\tafter a tab")
    window.wait_for_text("Hello, World! 0123456789 ~`!@#$%^&*()_+-=[]{}|;':\",./<>?\\"
                         "\nsecond line\tafter a tab")


@pytest.mark.parametrize("odd", ["é", "ü", "€", "😀"])
def test_characters_off_the_layout_arrive_by_paste(window: GtkWindow, injector: RemoteDesktopInjector,
                                                   odd: str) -> None:
    """Mutter 43 drops keysyms its layout lacks (logs "No keycode found for keyval") while the call
    succeeds, so such text goes whole through the session's clipboard and ctrl+v."""
    injector.inject("ok ")
    window.wait_for_text("ok ")
    injector.inject(f"a{odd}b Ünïcödé\nline")
    window.wait_for_text(f"ok a{odd}b Ünïcödé\nline")
    injector.inject(" then typed")
    window.wait_for_text(f"ok a{odd}b Ünïcödé\nline then typed")


def test_paste_puts_the_clipboard_back(gnome: HeadlessGnome, window: GtkWindow,
                                       injector: RemoteDesktopInjector) -> None:
    """Another application owns the clipboard; after the paste the clipboard holds its text again."""
    other = RemoteDesktopClient(gnome)
    try:
        other.own("the user's copy ✂")
        assert read_clipboard(gnome) == "the user's copy ✂"
        injector.inject("naïve café")
        window.wait_for_text("naïve café")
        assert read_clipboard(gnome) == "the user's copy ✂"
    finally:
        other.close()


def test_paste_nobody_asks_for_fails_loudly(gnome: HeadlessGnome, injector: RemoteDesktopInjector) -> None:
    """With no window to paste into, nothing asks for the text: an error, not silence."""
    injector.inject("x")  # the session exists, no window has focus
    start = time.monotonic()
    with pytest.raises(InjectionError, match="did not ask for the text"):
        injector.inject("café")
    assert time.monotonic() - start < 5


def test_session_is_kept_and_reopened_when_it_dies(window: GtkWindow,
                                                   injector: RemoteDesktopInjector) -> None:
    injector.inject("one ")
    first = injector._session
    injector.inject("two ")
    assert injector._session is first  # one session for the injector's life
    assert injector._conn is not None
    injector._conn.sock.close()  # the connection breaks: Mutter ends its session
    injector.inject("three")
    assert injector._session is not None and injector._session is not first
    window.wait_for_text("one two three")
    injector.close()
    injector.close()
    assert injector._conn is None
    injector.inject(" four")  # usable again after close()
    window.wait_for_text("one two three four")


@pytest.mark.parametrize("current_desktop", ["GNOME", ""])
def test_auto_picks_remote_desktop_on_gnome(window: GtkWindow, gnome: HeadlessGnome,
                                            monkeypatch: pytest.MonkeyPatch, current_desktop: str) -> None:
    """First in the chain on GNOME; without XDG_CURRENT_DESKTOP wtype goes first, fails, and remote-desktop
    still delivers."""
    for key, value in gnome.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", current_desktop)
    monkeypatch.delenv("DISPLAY", raising=False)
    chain = create_injector(InjectionConfig(method="auto"))
    try:
        chain.inject("picked by auto")
        assert chain.name == "remote-desktop"
    finally:
        chain.close()
    window.wait_for_text("picked by auto")


def test_speed_per_hundred_characters(window: GtkWindow, injector: RemoteDesktopInjector) -> None:
    text = ("The quick brown fox jumps over the lazy dog. " * 3)[:100]
    injector.inject("x")  # the session is opened outside the measurement
    window.wait_for_text("x")
    start = time.perf_counter()
    injector.inject(text)
    sent = time.perf_counter() - start
    window.wait_for_text("x" + text)
    arrived = time.perf_counter() - start
    print(f"\nremote-desktop: 100 characters sent in {sent * 1000:.1f} ms, in the window after "
          f"{arrived * 1000:.1f} ms")
    assert sent < 2.0
