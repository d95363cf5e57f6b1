from __future__ import annotations

import pytest

from onevox.desktop import detect_session
from onevox.errors import InjectionError
from onevox.inject.session import run_tool
from tests.inject.fakebin import FakeBin


@pytest.mark.parametrize(("env", "expected"), [
    ({"DISPLAY": ":0"}, "x11"),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
    ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "wayland"),  # XWayland
    ({"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":1"}, "wayland"),
    ({"XDG_SESSION_TYPE": "tty"}, "none"),
    ({}, "none"),
])
def test_detect_session(env: dict[str, str], expected: str) -> None:
    assert detect_session(env) == expected


def test_missing_tool_names_the_package(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeBin(tmp_path, monkeypatch)
    with pytest.raises(InjectionError, match="xclip is not installed"):
        run_tool(["xclip", "-o"])


def test_failing_tool_reports_exit_code_and_reason(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeBin(tmp_path, monkeypatch)
    fake.add("wtype", exit_code=1, stderr="Compositor does not support the virtual keyboard protocol")
    with pytest.raises(InjectionError, match=r"wtype failed \(exit 1\): Compositor does not support"):
        run_tool(["wtype", "-"], stdin=b"hi")


def test_tool_output_and_input(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeBin(tmp_path, monkeypatch)
    fake.add("wl-paste", stdout="copied text")
    assert run_tool(["wl-paste", "-n"], stdin="ü".encode()) == b"copied text"
    assert fake.stdin("wl-paste") == "ü"
    assert fake.args("wl-paste") == ["-n"]


def test_timeout(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeBin(tmp_path, monkeypatch, keep_path=True)
    (fake.bin / "slowtool").write_text("#!/bin/sh\nsleep 5\n")
    (fake.bin / "slowtool").chmod(0o755)
    with pytest.raises(InjectionError, match=r"did not finish within 0\.2 s"):
        run_tool(["slowtool"], timeout=0.2)


def test_a_tool_that_leaves_an_owner_process_behind_returns_at_once(tmp_path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Like xclip: the background child keeps our stdout/stderr; run_tool must not wait for it to exit."""
    fake = FakeBin(tmp_path, monkeypatch, keep_path=True)
    (fake.bin / "ownertool").write_text("#!/bin/sh\ncat >/dev/null\n(sleep 3) &\nexit 0\n")
    (fake.bin / "ownertool").chmod(0o755)
    run_tool(["ownertool"], stdin=b"x", forks_owner=True, timeout=2.0)  # would time out on pipes
