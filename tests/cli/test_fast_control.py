"""The slim control path (onevox.cli.fast) against the full click CLI: same stdout, stderr and exit code for
toggle / start-dictation / stop-dictation / cancel / status --json, and no click or rich imported."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onevox.cli import fast
from onevox.config import load_config
from onevox.errors import IpcError
from onevox.ipc import protocol as proto
from onevox.ipc.server import IpcServer
from tests.ipc.doubles import FakeController

FULL = "import sys; from onevox.cli import cli; cli(prog_name='onevox')"


class RefusingController(FakeController):
    """start-dictation is refused the way a daemon without a microphone refuses it."""

    def dispatch(self, cmd: str, args: dict[str, Any]) -> dict[str, Any]:
        if cmd == "start_dictation":
            with self._lock:
                self.calls.append((cmd, dict(args)))
            raise IpcError("no microphone: no audio input device found", code=proto.UNAVAILABLE)
        return super().dispatch(cmd, args)


@pytest.fixture
def controller() -> FakeController:
    return RefusingController()


def _run(prefix: list[str], args: list[str]) -> tuple[str, str, int]:
    done = subprocess.run([sys.executable, *prefix, *args], capture_output=True, text=True, timeout=60,
                          env=os.environ.copy())
    return done.stdout, done.stderr, done.returncode


def both(args: list[str]) -> tuple[tuple[str, str, int], tuple[str, str, int]]:
    return _run(["-m", "onevox"], args), _run(["-c", FULL], args)


COMMANDS = [["toggle"], ["start-dictation"], ["stop-dictation"], ["cancel"], ["status", "--json"],
            ["toggle", "--json"], ["stop-dictation", "--json"]]


@pytest.mark.parametrize("where", ["after", "before", "equals"])
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_same_answer_as_the_full_cli(server: IpcServer, controller: FakeController, config_file: Path,
                                     command: list[str], where: str) -> None:
    config = {"after": [*command, "--config", str(config_file)],
              "before": ["--config", str(config_file), *command],
              "equals": [*command, f"--config={config_file}"]}[where]
    assert fast.parse_args(config) is not None
    fast_out, full_out = both(config)
    assert fast_out == full_out
    assert len(controller.commands()) == 2  # one request each: nothing sent twice
    if command[0] == "cancel":
        assert fast_out == ("", "onevox: nothing to cancel: no dictation is running\n", 1)
    elif command[0] == "start-dictation":
        assert fast_out == ("", "onevox: no microphone: no audio input device found\n", 1)
    else:
        assert fast_out[2] == 0 and fast_out[0]


def test_the_fast_path_serves_it_in_process(server: IpcServer, config_file: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert fast.serve(["stop-dictation", "--config", str(config_file)]) == 0
    assert capsys.readouterr().out == "idle\n"
    assert fast.serve(["start-dictation", "--config", str(config_file)]) == 1


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_not_running_is_the_full_clis_answer(config_file: Path, command: list[str]) -> None:
    args = [*command, "--config", str(config_file)]
    assert fast.serve(args) is None  # nothing listens: the full CLI explains it
    fast_out, full_out = both(args)
    assert fast_out == full_out
    assert fast_out[2] == 3 and "not running" in fast_out[0] + fast_out[1]


@pytest.mark.parametrize(("where", "command"), [("--config", ["status", "--json"]),
                                                ("default", ["status", "--json"]),
                                                ("--config", ["stop-dictation"])])
def test_the_fast_path_imports_neither_click_nor_rich(server: IpcServer, config_file: Path, where: str,
                                                      command: list[str]) -> None:
    args, env = ["--config", str(config_file)], os.environ.copy()
    if where == "default":  # the user's own config file, found where platformdirs would find it
        folder = config_file.parent / "config_home"
        (folder / "onevox").mkdir(parents=True)
        (folder / "onevox" / "config.toml").write_text(config_file.read_text())
        args, env["XDG_CONFIG_HOME"] = [], str(folder)
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "onevox", *command, *args],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "onevox.cli.fast" in imported
    heavy = {name for name in imported if name.split(".")[0] in ("click", "rich", "numpy", "platformdirs")}
    heavy |= imported & {"onevox.config", "onevox.ipc.client", "onevox.ipc.protocol", "onevox.paths"}
    heavy |= imported & {"json", "re"}  # the answer is read and written without the json package
    assert not heavy


@pytest.mark.parametrize("args", [
    [], ["status"], ["--help"], ["toggle", "--help"], ["-h"], ["toggle", "--verbose"], ["daemon"],
    ["toggle", "cancel"], ["--json", "toggle"], ["toggle", "--config"], ["toggle", "--config", ""],
    ["--config", "a", "--config", "b", "toggle"], ["toggle", "--config", "a", "--config=b"],
    ["toggle", "--json", "--json"], ["--version"], ["toggle", "--config", "--json"],
    ["status", "--", "--json"],
])
def test_anything_else_goes_to_the_full_cli(args: list[str]) -> None:
    assert fast.parse_args(args) is None


def _inv(*args: str) -> fast.Invocation:
    inv = fast.parse_args([*args])
    assert inv is not None
    return inv


def test_socket_path_is_the_configs(isolated_xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def same(inv: fast.Invocation) -> str | None:
        return str(load_config(inv.sub_config or inv.root_config).socket_path())

    assert fast.socket_path(_inv("toggle")) == same(_inv("toggle"))  # no file: the default socket
    default_file = isolated_xdg / "xdg_config_home" / "onevox" / "config.toml"
    default_file.parent.mkdir(parents=True)
    default_file.write_text('[daemon]\nsocket = "~/my.sock"\n[hotkey]\nmode = "toggle"\n')
    assert fast.socket_path(_inv("toggle")) == same(_inv("toggle")) == os.path.expanduser("~/my.sock")

    other = isolated_xdg / "other.toml"
    other.write_text("[daemon]\nlog_level = \"info\"\n")  # no socket: the default one
    inv = _inv("--config", str(default_file), "cancel", "--config", str(other))
    assert fast.socket_path(inv) == same(inv) == str(isolated_xdg / "run" / "onevox" / "onevox.sock")

    monkeypatch.setenv("ONEVOX_CONFIG", str(default_file))
    assert fast.socket_path(_inv("toggle")) == os.path.expanduser("~/my.sock")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    inv = _inv("toggle", "--config", str(other))
    assert fast.socket_path(inv) == same(inv) == f"/tmp/onevox-{os.getuid()}/onevox.sock"


@settings(max_examples=60, deadline=None)
@given(xdg=st.sampled_from([None, "", "relative/cfg", "/abs/cfg", "/abs/cfg/", "//x", " /sp"]),
       home=st.sampled_from([None, "", "rel", "/home/u", "/", "/home/u/"]))
def test_the_default_config_file_is_platformdirs(xdg: str | None, home: str | None) -> None:
    """Where the slim path looks for the config without platformdirs: the same file, or None (it then asks
    platformdirs)."""
    from onevox.paths import default_config_path

    with mock.patch.dict(os.environ):  # the whole environment comes back as it was
        for name, value in (("XDG_CONFIG_HOME", xdg), ("HOME", home)):
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        plain = fast.default_config_file()
        if plain is not None:
            assert plain == os.fspath(default_config_path())
        else:
            assert not (xdg or "").startswith("/") and not (home or "").startswith("/")


def test_configs_it_cannot_read_simply_go_to_the_full_cli(isolated_xdg: Path) -> None:
    broken = isolated_xdg / "broken.toml"
    for text in ("[daemon\n", "daemon = 3\n", "[daemon]\nsocket = 3\n"):
        broken.write_text(text)
        assert fast.socket_path(_inv("toggle", "--config", str(broken))) is None
    assert fast.socket_path(_inv("toggle", "--config", str(isolated_xdg / "missing.toml"))) is None
    assert fast.socket_path(_inv("toggle", "--config", str(isolated_xdg))) is None  # a folder


def test_the_request_is_the_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    from onevox.cli import daemon_cmd
    from onevox.ipc import client

    assert fast.MAX_RESPONSE_BYTES == client.MAX_RESPONSE_BYTES
    assert fast.TIMEOUT_S == daemon_cmd.STATUS_TIMEOUT_S
    assert set(fast.COMMANDS.values()) <= proto.COMMANDS
    for cmd in fast.COMMANDS.values():
        assert fast.request_bytes(cmd) == proto.encode_request(fast.REQUEST_ID, cmd)
    for result in ({"state": "idle", "message": "x"}, {"message": "m"}, {}, {"state": ""}):
        assert fast.summarise(result) == daemon_cmd._summarise(result)


def test_echo_is_click_echo(capsys: pytest.CaptureFixture[str]) -> None:
    import click

    for text in ("plain", "\x1b[31mred\x1b[0m text", "ünïcode"):
        click.echo(text)
        click.echo(text, err=True)
        expected = capsys.readouterr()
        fast.echo(text)
        fast.echo(text, err=True)
        assert capsys.readouterr() == expected


_LINES = st.sampled_from([
    "[daemon]", "[hotkey]", "[ daemon ]", "[daemon.extra]", "[[daemon]]", "[\"daemon\"]", "[daemon",
    "# the daemon socket", "daemon = 3",
    'socket = "/run/a.sock"', "socket='/run/b c.sock'  # note", 'socket = "/run/c.sock" trailing',
    '"socket" = "/q"', 'daemon.socket = "/d"', 'daemon = { socket = "/i" }', 'log_level = "info"  # daemon',
    'socket = "a\\u0062"', 'x = """', '"""', "vocabulary = [", '  "[daemon]",', "]", "backend = 'none'",
    "socket = 3", "garbage",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(_LINES, max_size=8))
def test_the_plain_scan_agrees_with_tomllib_or_hands_over(lines: list[str]) -> None:
    """The line scan that spares the control path from importing tomllib gives tomllib's answer for every
    file tomllib accepts, or None (then tomllib reads the file)."""
    raw = "\n".join(lines).encode()
    scanned = fast.simple_socket_setting(raw)
    if scanned is None:
        return
    try:
        data = tomllib.loads(raw.decode())
    except tomllib.TOMLDecodeError:
        return  # not valid TOML: the fast path does not validate the config (the daemon does)
    daemon = data.get("daemon", {})
    assert isinstance(daemon, dict)
    assert scanned == daemon.get("socket", "")


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                 max_size=4),
                     max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(value=_JSON, before=st.sampled_from(["", " ", "\t\n"]), after=st.sampled_from(["", "\n", " \r\n"]),
       ascii_only=st.booleans())
def test_the_slim_json_reader_is_json_loads(value: object, before: str, after: str, ascii_only: bool) -> None:
    import json

    text = before + json.dumps(value, ensure_ascii=ascii_only) + after
    assert fast.parse_json(text) == json.loads(text)
    assert fast.dump_json(value) == json.dumps(value, ensure_ascii=False, sort_keys=True)


@pytest.mark.parametrize("text", ["", "  ", "{", '{"a": 1} x', '{"a": 1}{}', "[1,]", '"\x01"', "nul",
                                  '{"a": NaN', "1 2"])
def test_the_slim_json_reader_refuses_what_json_loads_refuses(text: str) -> None:
    import json

    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        fast.parse_json(text)


def test_the_slim_json_reader_keeps_json_loads_constants() -> None:
    import math

    value = fast.parse_json('{"a": NaN, "b": -Infinity, "c": 1.5e3, "d": 10}')
    assert math.isnan(value["a"]) and value["b"] == float("-inf")
    assert value["c"] == 1500.0 and value["d"] == 10
