"""German (umlauts, ß) and Chinese text through every injection method's text path that runs without a
desktop: what reaches the tool (argv, stdin, the clipboard) is exactly the text, and a method that cannot
type these characters refuses the whole text, naming them, so that `auto` falls back to one that can.
The same texts go into a real window on Xvfb in test_x11_injection.py."""

from __future__ import annotations

import io

import pytest

from onevox.config import InjectionConfig
from onevox.errors import InjectionError
from onevox.inject import create_injector
from onevox.inject.paste import PasteInjector
from onevox.inject.remote_desktop import keysym_for, mutter_keysyms
from onevox.inject.stdout import StdoutInjector
from onevox.inject.tools import WtypeInjector, XdotoolInjector, YdotoolInjector
from tests.inject.fakebin import FakeBin

GERMAN = "Grüße aus Köln: Äpfel, Öl und Übermaß auf der Straße"
CHINESE = "你好，世界。我们明天见！"
TEXTS = pytest.mark.parametrize("text", [GERMAN, CHINESE], ids=["de", "zh"])


@pytest.fixture
def fake(tmp_path, monkeypatch: pytest.MonkeyPatch) -> FakeBin:
    monkeypatch.setenv("LANG", "C")  # the daemon may run under a C locale: the tools must still get UTF-8
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_CTYPE", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    return FakeBin(tmp_path, monkeypatch, keep_path=True)


@TEXTS
def test_stdout(text: str) -> None:
    out = io.StringIO()
    StdoutInjector(out).inject(text)
    assert out.getvalue() == text + "\n"


@TEXTS
def test_wtype_gets_the_text_whole_in_utf8(fake: FakeBin, text: str) -> None:
    fake.add("wtype")
    WtypeInjector(InjectionConfig(), session="wayland").inject(text)
    assert fake.stdin("wtype") == text and fake.lc_all("wtype") == "C.UTF-8"


@TEXTS
def test_xdotool_gets_the_text_as_one_argument(fake: FakeBin, text: str) -> None:
    fake.add("xdotool")
    XdotoolInjector(InjectionConfig(), session="x11").inject(text)
    assert fake.args("xdotool")[-1] == text


@TEXTS
def test_wayland_paste_puts_the_exact_text_on_the_clipboard(fake: FakeBin, text: str) -> None:
    store = fake.add_wayland_clipboard()
    fake._script("wtype", f'/bin/cat "{store}" > "{fake.log}/clipboard-at-keys"\n')
    PasteInjector(InjectionConfig(restore_clipboard=False), session="wayland").inject(text)
    assert (fake.log / "clipboard-at-keys").read_text(encoding="utf-8") == text


@TEXTS
def test_ydotool_refuses_rather_than_mangles(fake: FakeBin, text: str) -> None:
    fake.add("ydotool")
    with pytest.raises(InjectionError, match="non-ASCII"):
        YdotoolInjector(InjectionConfig(), session="wayland").inject(text)
    assert not fake.called("ydotool")


@TEXTS
def test_remote_desktop_refuses_naming_the_characters(text: str) -> None:
    """Mutter 43 drops keys that are not on the layout: the text is refused whole, never typed in part."""
    with pytest.raises(InjectionError, match="refusing the whole text") as exc:
        mutter_keysyms(text)
    assert f"U+{ord(next(c for c in text if ord(c) > 0x7E)):04X}" in str(exc.value)
    assert all(keysym_for(c) for c in text)  # every character has a keysym for a server that maps them


@TEXTS
def test_auto_on_wayland_falls_back_to_a_method_that_keeps_the_text(fake: FakeBin, tmp_path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     text: str) -> None:
    """wtype typing is refused by the compositor here; ydotool would mangle: paste delivers it whole."""
    store = fake.add_wayland_clipboard()
    fake._script("wtype", f"""[ "$1" = "-M" ] || {{ echo "typing refused" >&2; exit 1; }}
/bin/cat "{store}" > "{fake.log}/clipboard-at-keys"
""")
    fake.add("ydotool")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")  # no GNOME
    chain = create_injector(InjectionConfig(restore_clipboard=False), session="wayland")
    chain.inject(text)
    assert chain.name == "paste"
    assert (fake.log / "clipboard-at-keys").read_text(encoding="utf-8") == text
    assert not fake.called("ydotool")
