"""xdotool, wtype, ydotool and stdout injectors. wtype and ydotool need a Wayland compositor and uinput,
which this machine lacks, so they run against fake executables (test doubles) that record what they get;
xdotool is also exercised for real on Xvfb in test_x11_injection.py."""

from __future__ import annotations

import io

import pytest

from onevox.config import InjectionConfig
from onevox.errors import InjectionError
from onevox.inject.stdout import StdoutInjector
from onevox.inject.tools import WtypeInjector, XdotoolInjector, YdotoolInjector
from tests.inject.fakebin import FakeBin

UNICODE = "naïve café Ü — 🙂"


@pytest.fixture
def fake(tmp_path, monkeypatch: pytest.MonkeyPatch) -> FakeBin:
    monkeypatch.setenv("LANG", "C")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_CTYPE", raising=False)
    return FakeBin(tmp_path, monkeypatch, keep_path=True)


def test_wtype_gets_the_text_on_stdin_with_a_utf8_locale(fake: FakeBin) -> None:
    fake.add("wtype")
    injector = WtypeInjector(InjectionConfig(type_delay_ms=3), session="wayland")
    assert injector.available()
    injector.inject(UNICODE)
    assert fake.args("wtype") == ["-d", "3", "-"]
    assert fake.stdin("wtype") == UNICODE
    assert fake.lc_all("wtype") == "C.UTF-8"


def test_wtype_without_a_delay_gets_no_delay_option(fake: FakeBin) -> None:
    """wtype 0.4 refuses `-d 0` ("Invalid sleep time"), and typing without a delay is its default."""
    fake.add("wtype")
    WtypeInjector(InjectionConfig(type_delay_ms=0), session="wayland").inject("hello")
    assert fake.args("wtype") == ["-"]
    assert fake.stdin("wtype") == "hello"


def test_wtype_exit_status_is_the_verdict_and_stderr_the_reason(fake: FakeBin) -> None:
    """A failed exit is a failure whatever else happened, with all of wtype's complaint in the message."""
    fake.add("wtype", exit_code=1, stderr="Invalid sleep time\nUsage: wtype <text-to-type>")
    with pytest.raises(InjectionError, match=r"wtype failed \(exit 1\): Invalid sleep time \| Usage: wtype"):
        WtypeInjector(InjectionConfig(type_delay_ms=4), session="wayland").inject("hello")
    fake.add("wtype", exit_code=3)
    with pytest.raises(InjectionError, match=r"wtype failed \(exit 3\) \(nothing on stderr\)"):
        WtypeInjector(InjectionConfig(), session="wayland").inject("hello")


def test_wtype_failure_is_an_injection_error(fake: FakeBin) -> None:
    fake.add("wtype", exit_code=1, stderr="Compositor does not support the virtual keyboard protocol")
    with pytest.raises(InjectionError, match="virtual keyboard protocol"):
        WtypeInjector(InjectionConfig(), session="wayland").inject("hello")


def test_wtype_needs_wayland(fake: FakeBin) -> None:
    fake.add("wtype")
    injector = WtypeInjector(InjectionConfig(), session="x11")
    assert not injector.available()
    with pytest.raises(InjectionError, match="Wayland session"):
        injector.inject("hello")
    assert not fake.called("wtype")


def test_ydotool_types_ascii_from_stdin(fake: FakeBin) -> None:
    fake.add("ydotool")
    YdotoolInjector(InjectionConfig(type_delay_ms=5), session="wayland").inject("Hello, world! -v")
    assert fake.args("ydotool") == ["type", "--key-delay", "5", "--file", "/dev/stdin"]
    assert fake.stdin("ydotool") == "Hello, world! -v"


def test_ydotool_refuses_text_it_would_mangle(fake: FakeBin) -> None:
    fake.add("ydotool")
    with pytest.raises(InjectionError, match="non-ASCII characters"):
        YdotoolInjector(InjectionConfig(), session="wayland").inject(UNICODE)
    assert not fake.called("ydotool")


def test_ydotool_not_installed(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeBin(tmp_path, monkeypatch)  # empty PATH
    injector = YdotoolInjector(InjectionConfig(), session="wayland")
    assert injector.unavailable_reason() == "ydotool is not installed"
    with pytest.raises(InjectionError, match="not installed"):
        injector.inject("x")


@pytest.mark.parametrize(("text", "delay"), [("plain ascii", "2"), (UNICODE, "12")])
def test_xdotool_arguments_without_a_keymap_to_prepare(fake: FakeBin, monkeypatch: pytest.MonkeyPatch,
                                                       text: str, delay: str) -> None:
    """No X display to put the characters on the map first: Unicode gets xdotool's safe delay."""
    monkeypatch.delenv("DISPLAY", raising=False)
    fake.add("xdotool")
    XdotoolInjector(InjectionConfig(type_delay_ms=2), session="x11").inject(text)
    assert fake.args("xdotool") == ["type", "--clearmodifiers", "--delay", delay, "--", text]


def test_empty_text_runs_nothing(fake: FakeBin) -> None:
    for name in ("xdotool", "wtype", "ydotool"):
        fake.add(name)
    XdotoolInjector(InjectionConfig(), session="x11").inject("")
    WtypeInjector(InjectionConfig(), session="wayland").inject("")
    YdotoolInjector(InjectionConfig(), session="wayland").inject("")
    assert not any(fake.called(n) for n in ("xdotool", "wtype", "ydotool"))


def test_stdout_writes_a_line() -> None:
    out = io.StringIO()
    StdoutInjector(out).inject(UNICODE)
    assert out.getvalue() == UNICODE + "\n"


def test_stdout_closed_stream_is_an_injection_error() -> None:
    out = io.StringIO()
    out.close()
    with pytest.raises(InjectionError, match="cannot write"):
        StdoutInjector(out).inject("x")
