"""`onevox config show|path|init|validate` through click's CliRunner, with XDG folders in tmp_path."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from onevox.cli import cli
from onevox.config import Config, load_config, parse_config


@pytest.fixture
def xdg(isolated_xdg: Path) -> Path:
    return isolated_xdg


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def _default_path(xdg: Path) -> Path:
    return xdg / "xdg_config_home" / "onevox" / "config.toml"


def _one_line_error(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("onevox: "), result.stderr
    return lines[0]


def test_path_is_the_xdg_default(xdg: Path) -> None:
    result = run("config", "path")

    assert result.exit_code == 0
    assert result.stdout == f"{_default_path(xdg)}\n"


def test_path_follows_the_flags_and_the_environment(xdg: Path, tmp_path: Path) -> None:
    env, flag, sub = (str(tmp_path / name) for name in ("e.toml", "g.toml", "s.toml"))
    assert run("config", "path", env={"ONEVOX_CONFIG": env}).stdout == f"{env}\n"
    assert run("--config", flag, "config", "path").stdout == f"{flag}\n"
    assert run("--config", flag, "config", "path", "--config", sub).stdout == f"{sub}\n"


def test_init_writes_a_private_documented_default_file(xdg: Path) -> None:
    result = run("config", "init")

    path = _default_path(xdg)
    assert result.exit_code == 0, result.output
    assert str(path) in result.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_config(path) == Config()
    assert "# spoken language code" in path.read_text()
    assert not list(path.parent.glob(".*.tmp"))


def test_init_refuses_to_overwrite_without_force(xdg: Path) -> None:
    path = _default_path(xdg)
    path.parent.mkdir(parents=True)
    path.write_text("[model]\nbeam_size = 3\n")

    line = _one_line_error(run("config", "init"), 1)

    assert "already exists; use --force" in line
    assert path.read_text() == "[model]\nbeam_size = 3\n"
    assert run("config", "init", "--force").exit_code == 0
    assert load_config(path) == Config()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_init_to_an_explicit_path(xdg: Path, tmp_path: Path) -> None:
    target = tmp_path / "deep" / "onevox.toml"

    assert run("config", "init", "--config", str(target)).exit_code == 0

    assert load_config(target) == Config()
    assert not _default_path(xdg).exists()


def test_show_prints_the_effective_config_as_toml(xdg: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[model]\nbeam_size = 5\n[hotkey]\nmode = "toggle"\n')

    result = run("--config", str(path), "config", "show")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"# effective config from {path}")
    shown = parse_config(result.stdout)
    assert (shown.model.beam_size, shown.hotkey.mode, shown.vad) == (5, "toggle", Config().vad)
    bare = run("--config", str(path), "config", "show", "--no-docs").stdout
    assert "# spoken language" not in bare
    assert tomllib.loads(bare)["model"]["beam_size"] == 5


def test_show_without_a_file_shows_the_defaults(xdg: Path) -> None:
    result = run("config", "show")

    assert "built-in defaults (no file at" in result.stdout
    assert parse_config(result.stdout) == Config()


def test_show_with_a_broken_file_is_one_line(xdg: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[vad]\nthreshold = 7\n")

    line = _one_line_error(run("--config", str(path), "config", "show"), 2)

    assert line == f"onevox: {path}: vad.threshold: must be from 0 to 1, got 7.0"


def test_validate_ok(xdg: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[model]\nname = "small.en"\n')

    result = run("config", "validate", str(path))

    assert (result.exit_code, result.stdout) == (0, "ok\n")


def test_validate_the_default_file(xdg: Path) -> None:
    assert run("config", "init").exit_code == 0

    assert run("config", "validate").stdout == "ok\n"


def test_validate_without_any_file_is_ok_and_says_so(xdg: Path) -> None:
    result = run("config", "validate")

    assert (result.exit_code, result.stdout) == (0, "ok\n")
    assert "no config file" in result.stderr


@pytest.mark.parametrize(("text", "expected"), [
    ("[vad]\nbackend = 'magic'\n", "vad.backend: must be one of silero, webrtc, energy, off; got 'magic'"),
    ("[model]\nname = 'huge-v9'\n", "model.name: unknown model 'huge-v9'"),
    ("[model]\nname = \n", "not valid TOML"),
    ("[nope]\n", "nope: unknown section"),
])
def test_validate_reports_the_problem_with_status_2(xdg: Path, tmp_path: Path, text: str,
                                                    expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)

    line = _one_line_error(run("config", "validate", str(path)), 2)

    assert line.startswith(f"onevox: {path}: ")
    assert expected in line


def test_validate_a_missing_file(xdg: Path, tmp_path: Path) -> None:
    line = _one_line_error(run("config", "validate", str(tmp_path / "absent.toml")), 2)

    assert line.endswith("absent.toml: file not found")


def test_validate_accepts_a_model_folder_path(xdg: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[model]\nname = "~/models/my-whisper"\n')

    assert run("config", "validate", str(path)).stdout == "ok\n"
