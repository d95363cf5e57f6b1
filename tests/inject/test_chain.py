from __future__ import annotations

import pytest

from onevox.config import InjectionConfig
from onevox.errors import InjectionError
from onevox.inject import create_injector
from onevox.inject.base import Injector, InjectorBase
from onevox.inject.chain import FallbackInjector
from onevox.inject.paste import PasteInjector
from onevox.inject.stdout import StdoutInjector
from onevox.inject.tools import WtypeInjector, XdotoolInjector, YdotoolInjector
from onevox.inject.xtype import TypeInjector
from tests.inject.fakebin import FakeBin


@pytest.fixture(autouse=True)
def _not_gnome(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Wayland order under test is the plain one (on GNOME remote-desktop goes first)."""
    monkeypatch.delenv("XDG_CURRENT_DESKTOP", raising=False)


class FakeInjector(InjectorBase):
    """Test double: delivers into a list, or fails with a reason, or is unavailable."""

    def __init__(self, name: str, *, fails: str = "", available: bool = True) -> None:
        self.name = name
        self.fails = fails
        self._available = available
        self.delivered: list[str] = []
        self.closed = 0

    def unavailable_reason(self) -> str | None:
        return None if self._available else "not available in this session"

    def close(self) -> None:
        self.closed += 1

    def inject(self, text: str) -> None:
        if self.fails:
            raise InjectionError(self.fails)
        self.delivered.append(text)


def test_first_working_method_delivers_and_is_reported() -> None:
    a, b, c = FakeInjector("paste", fails="no clipboard"), FakeInjector("type"), FakeInjector("xdotool")
    chain = FallbackInjector([a, b, c], "x11")
    assert chain.name == "auto"
    chain.inject("hello")
    assert chain.name == "type"
    assert (a.delivered, b.delivered, c.delivered) == ([], ["hello"], [])


def test_unavailable_methods_are_skipped() -> None:
    a, b = FakeInjector("wtype", available=False), FakeInjector("paste")
    chain = FallbackInjector([a, b], "wayland")
    chain.inject("x")
    assert chain.name == "paste" and b.delivered == ["x"]


def test_the_chain_is_unavailable_only_when_every_method_is() -> None:
    some = FallbackInjector([FakeInjector("wtype", available=False), FakeInjector("paste")], "wayland")
    assert some.available() and some.unavailable_reason() is None
    unavailable = [FakeInjector("wtype", available=False), FakeInjector("ydotool", available=False)]
    none = FallbackInjector(unavailable, "wayland")
    assert not none.available()
    assert none.unavailable_reason() == ("wtype: not available in this session; "
                                         "ydotool: not available in this session")
    assert FallbackInjector([], "none").unavailable_reason() == "no method works in a 'none' session"


def test_close_closes_every_method() -> None:
    methods = [FakeInjector("paste"), FakeInjector("type")]
    FallbackInjector(methods, "x11").close()
    assert [m.closed for m in methods] == [1, 1]


def test_every_injector_has_the_whole_interface() -> None:
    """The defaults on InjectorBase: the chain and the daemon call these without probing for them."""
    injectors: list[Injector] = [StdoutInjector(), FallbackInjector([], "none"), FakeInjector("x")]
    for injector in injectors:
        assert injector.available() == (injector.unavailable_reason() is None)
        injector.close()
        injector.close()  # twice is fine


def test_all_failing_lists_every_reason() -> None:
    chain = FallbackInjector([FakeInjector("paste", fails="clipboard busy"),
                              FakeInjector("type", available=False),
                              FakeInjector("xdotool", fails="xdotool failed (exit 1)")], "x11")
    with pytest.raises(InjectionError) as err:
        chain.inject("precious words")
    message = str(err.value)
    assert "paste: clipboard busy" in message
    assert "type: not available" in message
    assert "xdotool: xdotool failed (exit 1)" in message


def test_no_methods_in_a_session_without_display() -> None:
    chain = create_injector(InjectionConfig(), session="none")
    with pytest.raises(InjectionError, match="method = stdout"):
        chain.inject("words")


def test_empty_text_is_not_an_error() -> None:
    FallbackInjector([FakeInjector("paste", fails="boom")], "x11").inject("")


@pytest.mark.parametrize(("method", "cls"), [
    ("paste", PasteInjector), ("type", TypeInjector), ("xdotool", XdotoolInjector),
    ("wtype", WtypeInjector), ("ydotool", YdotoolInjector), ("stdout", StdoutInjector),
])
def test_explicit_methods(method: str, cls: type) -> None:
    injector = create_injector(InjectionConfig(method=method), session="x11")
    assert isinstance(injector, cls)
    assert injector.name == method


@pytest.mark.parametrize(("session", "order"), [
    ("x11", ["paste", "type", "xdotool"]),
    ("wayland", ["wtype", "remote-desktop", "paste", "portal", "ydotool"]),
    ("none", []),
])
def test_auto_order_by_session(session: str, order: list[str]) -> None:
    chain = create_injector(InjectionConfig(), session=session)
    assert isinstance(chain, FallbackInjector)
    assert [i.name for i in chain.injectors] == order


def test_bad_paste_keys_are_reported_when_created() -> None:
    with pytest.raises(InjectionError, match=r"injection\.paste_keys.*unknown key 'vee'"):
        create_injector(InjectionConfig(paste_keys="ctrl+vee"), session="x11")
    with pytest.raises(InjectionError, match=r"injection\.terminal_paste_keys"):
        create_injector(InjectionConfig(method="paste", terminal_paste_keys=""), session="x11")


def test_wayland_without_wtype_falls_back_to_ydotool(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeBin(tmp_path, monkeypatch)  # PATH holds only the fakes: no wtype, no wl-copy
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")  # not GNOME
    fake.add("ydotool")
    chain = create_injector(InjectionConfig(), session="wayland")
    chain.inject("fallback works")
    assert chain.name == "ydotool"
    assert fake.stdin("ydotool") == "fallback works"


def test_wayland_typing_refused_falls_back_to_paste(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """wtype typing is refused; paste (wl-copy + wtype pressing ctrl+v) delivers instead, and the
    clipboard holds the user's text again afterwards."""
    fake = FakeBin(tmp_path, monkeypatch)
    fake._script("wtype", f"""printf '%s\\n' "$@" >> "{fake.log}/wtype.calls"
[ "$1" = "-M" ] && exit 0
echo "typing refused" >&2
exit 1
""")
    store = fake.add_wayland_clipboard()
    store.write_text("user's copy")
    # no GNOME here: remote-desktop (next after wtype) finds no session bus and is skipped
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    chain = create_injector(InjectionConfig(restore_delay_ms=0), session="wayland")
    chain.inject("über")
    assert chain.name == "paste"
    calls = (fake.log / "wtype.calls").read_text().split()
    assert calls[-8:] == ["-M", "ctrl", "-k", "v", "-m", "ctrl", "-p", "F24"]
    paste = next(i for i in chain.injectors if i.name == "paste")
    assert paste.wait_restored(5.0)
    assert store.read_text() == "user's copy"
