"""The systemd user unit and the readiness notification."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onevox.daemon import systemd
from tests.support.requirements import require_program


def _exec_start(unit: str) -> str:
    lines = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    assert len(lines) == 1
    return lines[0].removeprefix("ExecStart=")


def _systemd_split(exec_start: str) -> list[str]:
    """How systemd reads our ExecStart (double quotes with backslash escapes, %% and $$ doubled)."""
    return [word.replace("%%", "%").replace("$$", "$") for word in shlex.split(exec_start)]


def test_unit_runs_this_python_in_the_foreground() -> None:
    unit = systemd.render_unit()
    assert _systemd_split(_exec_start(unit)) == [sys.executable, "-m", "onevox", "daemon", "--foreground"]
    assert "@EXEC_START@" not in unit


def test_unit_passes_the_session_environment_and_restarts() -> None:
    unit = systemd.render_unit()
    passed = next(line for line in unit.splitlines() if line.startswith("PassEnvironment="))
    assert set(passed.split("=", 1)[1].split()) == {
        "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS"}
    for line in ("Restart=on-failure", "Type=notify", "WantedBy=default.target", "[Install]"):
        assert line in unit.splitlines()
    assert "systemctl --user import-environment DISPLAY WAYLAND_DISPLAY" in unit
    assert "systemctl --user enable --now onevox" in unit


def test_the_import_hint_names_every_session_variable_the_unit_passes() -> None:
    # install-service prints IMPORT_ENVIRONMENT; the unit's comment and the README must say the same
    assert systemd.IMPORT_ENVIRONMENT.split()[3:] == ["DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY"]
    unit = systemd.render_unit()
    assert f"#   {systemd.IMPORT_ENVIRONMENT}\n" in unit
    passed = next(line for line in unit.splitlines() if line.startswith("PassEnvironment="))
    assert set(systemd.SESSION_VARIABLES) <= set(passed.split("=", 1)[1].split())
    readme = Path(__file__).resolve().parents[2] / "README.md"
    assert f"\n{systemd.IMPORT_ENVIRONMENT}\n" in readme.read_text(encoding="utf-8")


def test_install_service_prints_the_import_hint(isolated_xdg: Path) -> None:
    from click.testing import CliRunner

    from onevox.cli import cli

    result = CliRunner().invoke(cli, ["install-service"])
    assert result.exit_code == 0, result.output
    assert f"\n  {systemd.IMPORT_ENVIRONMENT}\n" in result.stdout


def test_config_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    words = _systemd_split(_exec_start(systemd.render_unit(python="/usr/bin/python3",
                                                           config_path=Path("my conf.toml"))))
    assert words[-2:] == ["--config", str(tmp_path / "my conf.toml")]


@pytest.mark.parametrize(("arg", "word"), [
    ("/usr/bin/python3", "/usr/bin/python3"),
    ("/opt/my env/python", '"/opt/my env/python"'),
    ("/home/a/50%/x", '"/home/a/50%%/x"'),
    ("/home/$USER/py", '"/home/$$USER/py"'),
    ('/a"b\\c', '"/a\\"b\\\\c"'),
])
def test_exec_words_are_escaped(arg: str, word: str) -> None:
    assert systemd.exec_word(arg) == word


def test_control_characters_are_refused() -> None:
    with pytest.raises(systemd.ServiceError, match="control characters"):
        systemd.render_unit(config_path=Path("/tmp/a\nExecStartPre=/bin/evil"))


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20),
                min_size=1, max_size=5))
def test_exec_words_round_trip(args: list[str]) -> None:
    assert _systemd_split(" ".join(systemd.exec_word(a) for a in args)) == args


def test_systemd_analyze_accepts_the_unit(tmp_path: Path) -> None:
    require_program("systemd-analyze")
    unit = tmp_path / "onevox.service"
    unit.write_text(systemd.render_unit())
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)
    problems = [line for line in (done.stdout + done.stderr).splitlines() if "onevox.service" in line]
    assert done.returncode == 0 and problems == [], done.stdout + done.stderr


def test_install_writes_the_user_unit(isolated_xdg: Path) -> None:
    path = systemd.install_unit(systemd.render_unit())
    assert path == isolated_xdg / "xdg_config_home" / "systemd" / "user" / "onevox.service"
    assert path.read_text() == systemd.render_unit()
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def test_install_to_an_unwritable_place_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(systemd.ServiceError, match="cannot write"):
        systemd.install_unit("x", blocker / "sub" / "onevox.service")


@pytest.mark.parametrize("abstract", [False, True])
def test_notify_reaches_the_notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          abstract: bool) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        if abstract:
            name = f"onevox-test-{os.getpid()}"
            receiver.bind("\0" + name)
            monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        else:
            receiver.bind(str(tmp_path / "notify"))
            monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
        receiver.settimeout(5)
        assert systemd.notify("READY=1") is True
        assert receiver.recv(64) == b"READY=1"


def test_notify_without_systemd_does_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert systemd.notify("READY=1") is False
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert systemd.notify("READY=1") is False
