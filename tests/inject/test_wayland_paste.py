"""The paste method on Wayland (wl-copy + wtype) against fake tools: the exact paste keys wtype gets, and
failures that must surface. The real thing runs under headless sway in tests/e2e/test_wayland_sway.py."""

from __future__ import annotations

import pytest

from onevox.config import InjectionConfig
from onevox.errors import InjectionError
from onevox.hotkey.keys import parse_hotkey
from onevox.inject.paste import PasteInjector, ToolPaste, wtype_chord_args
from tests.inject.fakebin import FakeBin


@pytest.mark.parametrize(("keys", "args"), [
    # the spare key, released last, keeps the paste key off the keymap's highest keycode (ignored by GTK 3)
    ("ctrl+v", ["-M", "ctrl", "-k", "v", "-m", "ctrl", "-p", "F24"]),
    ("ctrl+shift+v", ["-M", "ctrl", "-M", "shift", "-k", "v", "-m", "shift", "-m", "ctrl", "-p", "F24"]),
    ("shift+insert", ["-M", "shift", "-k", "Insert", "-m", "shift", "-p", "F24"]),
    ("super+v", ["-M", "logo", "-k", "v", "-m", "logo", "-p", "F24"]),
    ("ctrl+f24", ["-M", "ctrl", "-k", "F24", "-m", "ctrl", "-p", "F23"]),  # never the paste key itself
])
def test_wtype_paste_chord(keys: str, args: list[str]) -> None:
    assert wtype_chord_args(parse_hotkey(keys)) == ["wtype", *args]


@pytest.fixture
def fake(tmp_path, monkeypatch: pytest.MonkeyPatch) -> FakeBin:
    monkeypatch.delenv("SWAYSOCK", raising=False)  # not under a sway of the machine's
    return FakeBin(tmp_path, monkeypatch)


def test_paste_sends_the_chord_after_the_clipboard_holds_the_text(fake: FakeBin) -> None:
    store = fake.add_wayland_clipboard()
    fake._script("wtype", f"""printf '%s\\n' "$@" > "{fake.log}/wtype.args"
/bin/cat "{store}" > "{fake.log}/clipboard-at-keys"
""")
    injector = PasteInjector(InjectionConfig(restore_clipboard=False), session="wayland")
    injector.inject("Grüße 🙂")
    assert fake.args("wtype") == ["-M", "ctrl", "-k", "v", "-m", "ctrl", "-p", "F24"]
    assert (fake.log / "clipboard-at-keys").read_text(encoding="utf-8") == "Grüße 🙂"
    assert injector.last_backend == "wl-copy+wtype"


def test_custom_terminal_style_keys_get_the_spare_key_too(fake: FakeBin) -> None:
    fake.add_wayland_clipboard()
    fake.add("wtype")
    injector = PasteInjector(InjectionConfig(restore_clipboard=False, paste_keys="ctrl+shift+v"),
                             session="wayland")
    injector.inject("ls -l")
    assert fake.args("wtype") == ["-M", "ctrl", "-M", "shift", "-k", "v", "-m", "shift", "-m", "ctrl",
                                  "-p", "F24"]


def test_failed_paste_keys_are_a_failure_with_the_reason(fake: FakeBin) -> None:
    fake.add_wayland_clipboard()
    fake.add("wtype", exit_code=1, stderr="Compositor does not support the virtual keyboard protocol")
    injector = PasteInjector(InjectionConfig(restore_clipboard=False), session="wayland")
    with pytest.raises(InjectionError, match=r"wtype failed \(exit 1\): Compositor does not support"):
        injector.inject("hello")


def test_failed_copy_is_a_failure_and_no_keys_are_pressed(fake: FakeBin) -> None:
    fake.add("wl-copy", exit_code=1, stderr="Failed to connect to a Wayland server")
    fake.add("wl-paste", exit_code=1, stderr="Nothing is copied")
    fake.add("wtype")
    injector = PasteInjector(InjectionConfig(restore_clipboard=False), session="wayland")
    with pytest.raises(InjectionError, match=r"wl-copy failed \(exit 1\): Failed to connect to a Wayland"):
        injector.inject("hello")
    assert not fake.called("wtype")


def test_tool_paste_needs_wtype(fake: FakeBin) -> None:
    fake.add_wayland_clipboard()
    with pytest.raises(InjectionError, match="needs wtype"):
        ToolPaste("wayland")


def _tree(focused: dict) -> dict:
    return {"id": 1, "type": "root", "nodes": [
        {"id": 2, "type": "output", "nodes": [
            {"id": 3, "type": "workspace", "nodes": [{"id": 4, "app_id": "firefox", "focused": False}],
             "floating_nodes": [{"id": 5, "focused": True, **focused}]}]}]}


class FakeSwayIpc:
    """A unix socket that answers each i3/sway IPC request with `reply` (bytes, header included)."""

    def __init__(self, path, reply: bytes) -> None:
        import socket
        import threading

        self.path = str(path)
        self.reply = reply
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen()
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                self.requests.append(conn.recv(14))
                conn.sendall(self.reply)

    def close(self) -> None:
        self.server.close()


def sway_reply(payload: object) -> bytes:
    import json
    import struct

    body = json.dumps(payload).encode()
    return struct.pack("=6sII", b"i3-ipc", len(body), 4) + body


@pytest.mark.parametrize(("focused", "expected"), [
    ({"app_id": "foot"}, "foot"),  # a Wayland window
    ({"app_id": None, "window_properties": {"class": "XTerm", "instance": "xterm"}}, "xterm XTerm"),
    ({"app_id": None}, ""),
])
def test_sway_focused_app(tmp_path, focused: dict, expected: str) -> None:
    from onevox.inject.window import sway_focused_app

    fake = FakeSwayIpc(tmp_path / "sway.sock", sway_reply(_tree(focused)))
    try:
        assert sway_focused_app({"SWAYSOCK": fake.path}) == expected
        assert fake.requests == [b"i3-ipc" + (0).to_bytes(4, "little") + (4).to_bytes(4, "little")]
    finally:
        fake.close()


def test_sway_focused_app_is_empty_when_it_cannot_be_told(tmp_path) -> None:
    from onevox.inject.window import sway_focused_app

    assert sway_focused_app({}) == ""  # not sway
    assert sway_focused_app({"SWAYSOCK": str(tmp_path / "gone.sock")}) == ""  # sway went away
    garbage = FakeSwayIpc(tmp_path / "garbage.sock", b"HTTP/1.1 400 Bad Request\r\n\r\n")
    truncated = FakeSwayIpc(tmp_path / "short.sock", sway_reply(_tree({"app_id": "foot"}))[:30])
    try:
        assert sway_focused_app({"SWAYSOCK": garbage.path}) == ""
        assert sway_focused_app({"SWAYSOCK": truncated.path}) == ""
    finally:
        garbage.close()
        truncated.close()


def test_wayland_paste_into_a_terminal_on_sway_uses_the_terminal_keys(fake: FakeBin, tmp_path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fake.add_wayland_clipboard()
    fake.add("wtype")
    ipc = FakeSwayIpc(tmp_path / "sway.sock", sway_reply(_tree({"app_id": "org.codeberg.dnkl.foot"})))
    monkeypatch.setenv("SWAYSOCK", ipc.path)
    try:
        injector = PasteInjector(InjectionConfig(restore_clipboard=False), session="wayland")
        injector.inject("make")
    finally:
        ipc.close()
    assert injector.last_keys == "ctrl+shift+v"
    assert fake.args("wtype")[:6] == ["-M", "ctrl", "-M", "shift", "-k", "v"]


def test_a_type_list_that_never_comes_is_an_empty_clipboard_after_half_a_second(fake: FakeBin) -> None:
    """KWin 5.27 sends wl-paste nothing when no one owns the clipboard, and wl-paste waits for ever."""
    import time

    from onevox.inject.clipboard import tool_clipboard

    store = fake.add_wayland_clipboard()
    fake._script("wl-paste", f"""[ "$1" = "--list-types" ] && [ ! -f "{store}" ] && exec sleep 30
[ "$1" = "--list-types" ] && {{ echo "text/plain;charset=utf-8"; exit 0; }}
/bin/cat "{store}"
""")
    clipboard = tool_clipboard("wayland")
    start = time.monotonic()
    assert clipboard.read() is None
    assert time.monotonic() - start < 1.9  # not the 2 s an X11 owner is given
    clipboard.write("hello")
    assert clipboard.read() == "hello"
