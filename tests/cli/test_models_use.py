"""`onevox models use NAME`: sets `[model] name` in the user's config file and nothing else, refuses a model
that is not installed or cannot decode the configured language (one line naming the fix, file untouched),
and makes a running daemon switch models (a real in-process daemon on a real socket, with model doubles)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from onevox.cli import cli
from onevox.config import load_config
from onevox.config_edit import set_key
from onevox.errors import OnevoxError
from tests.daemon.test_model_switch import Models
from tests.daemon.test_reload import _sections, _start, _write
from tests.models.httpfixture import fixture_files, write_folder

USER_FILE = """\
# my onevox settings
[hotkey]
trigger = "ctrl+alt+d"  # the key I like

[model]
# the model: fast first
name = "tiny.en"   # changed by `onevox models use`
language = "en"

[post_processing]
replacements = { "smiley face" = "🙂", "new line" = "\\n" }
"""


@pytest.fixture(autouse=True)
def _isolated(isolated_xdg: Path) -> Path:
    return isolated_xdg


def run(*args: str, config: Path | None = None) -> Result:
    argv = (["--config", str(config)] if config else []) + list(args)
    return CliRunner().invoke(cli, argv)


def _model_folder(tmp_path: Path, *, multilingual: bool) -> Path:
    return write_folder(tmp_path / ("multi" if multilingual else "english"),
                        fixture_files(vocab_size=51865 if multilingual else 51864))


def _user_file(tmp_path: Path, text: str = USER_FILE) -> Path:
    path = tmp_path / "onevox.toml"
    path.write_text(text + f'\n[daemon]\nsocket = "{tmp_path / "run" / "none.sock"}"\n', encoding="utf-8")
    return path


def test_use_sets_the_name_and_keeps_every_other_byte(tmp_path: Path) -> None:
    path = _user_file(tmp_path)
    before = path.read_text(encoding="utf-8")
    folder = _model_folder(tmp_path, multilingual=True)
    result = run("models", "use", str(folder), config=path)
    assert result.exit_code == 0, result.output
    assert f"[model] name = '{folder}'" in result.output
    assert "the daemon is not running; it uses this model when it starts" in result.output
    after = path.read_text(encoding="utf-8")
    assert after == before.replace('name = "tiny.en"', f'name = "{folder}"')
    assert load_config(path).model.name == str(folder)


@pytest.mark.parametrize(("name", "fix"), [
    ("small.en", "run `onevox models download small.en`"),
    ("no-such-model", "unknown model 'no-such-model'"),
])
def test_a_model_that_is_not_installed_is_one_line_and_the_file_is_untouched(
        tmp_path: Path, name: str, fix: str) -> None:
    path = _user_file(tmp_path)
    before = path.read_bytes()
    result = run("models", "use", name, config=path)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("onevox: ") and fix in lines[0], result.stderr
    assert path.read_bytes() == before


def test_an_english_only_model_is_refused_for_another_language(tmp_path: Path) -> None:
    path = _user_file(tmp_path, USER_FILE.replace('language = "en"', 'language = "de"'))
    before = path.read_bytes()
    result = run("models", "use", str(_model_folder(tmp_path, multilingual=False)), config=path)
    assert result.exit_code != 0
    assert "English only" in result.stderr and "language is 'de'" in result.stderr
    assert path.read_bytes() == before


def test_a_broken_config_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = _user_file(tmp_path, USER_FILE.replace('language = "en"', "language = 5"))
    before = path.read_bytes()
    result = run("models", "use", str(_model_folder(tmp_path, multilingual=True)), config=path)
    assert result.exit_code == 2 and "model.language" in result.stderr
    assert path.read_bytes() == before


def test_without_a_config_file_one_is_created_private(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path, multilingual=True)
    result = run("models", "use", str(folder))
    assert result.exit_code == 0, result.output
    created = Path(os.environ["XDG_CONFIG_HOME"]) / "onevox" / "config.toml"
    assert created.read_text(encoding="utf-8") == f'[model]\nname = "{folder}"\n'
    assert stat.S_IMODE(created.stat().st_mode) == 0o600


def test_a_symlinked_config_stays_a_link(tmp_path: Path) -> None:
    real = _user_file(tmp_path)
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    folder = _model_folder(tmp_path, multilingual=True)
    assert run("models", "use", str(folder), config=link).exit_code == 0
    assert link.is_symlink() and load_config(real).model.name == str(folder)


def test_the_same_model_again_changes_nothing(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path, multilingual=True)
    path = _user_file(tmp_path, USER_FILE.replace("tiny.en", str(folder)))
    before = path.read_bytes()
    result = run("models", "use", str(folder), config=path)
    assert result.exit_code == 0 and "already the configured model" in result.output
    assert path.read_bytes() == before


@pytest.mark.parametrize("text", ['model = { name = "x" }\n', 'model.name = "x"\n'])
def test_a_file_the_editor_cannot_change_safely_is_refused(text: str) -> None:
    with pytest.raises(OnevoxError, match="by hand"):
        set_key(text, "model", "name", "base")


def test_a_running_daemon_switches_to_the_model(tmp_path: Path) -> None:
    models = Models()
    r = _start(tmp_path, _sections(tmp_path, model={"name": "model-a"}), recognizer=None, load_model=models)
    try:
        assert r.dictate() == "Model-a words"
        folder = _model_folder(tmp_path, multilingual=True)
        result = run("models", "use", str(folder), config=r.path)
        assert result.exit_code == 0, result.output
        assert f"the daemon is loading {folder}" in result.output
        r.log.wait_for("model_loaded", lambda e: e["model"] == str(folder))
        assert r.daemon.commands.status()["model"] == str(folder)
        assert r.dictate().lower() == f"{folder} words".lower()  # decoded by the new model
        # the file keeps the daemon's other settings
        assert load_config(r.path).daemon.socket == _sections(tmp_path)["daemon"]["socket"]
        _write(r.path, _sections(tmp_path, model={"name": "model-a"}))  # and a reload brings model-a back
        r.daemon.reload()
        r.log.wait_for("model_loaded", lambda e: e["model"] == "model-a")
    finally:
        r.daemon.stop()
        r.log.close()


@pytest.mark.parametrize(("fields", "line"), [
    ({"model": "base", "language": "de"}, "language:   de"),
    ({"model": "base", "language": "auto", "languages": ["de", "en"]}, "language:   auto (de, en)"),
])
def test_status_shows_the_model_and_the_languages(fields: dict[str, object], line: str) -> None:
    from onevox.cli.daemon_cmd import format_status

    shown = format_status({"state": "idle", **fields}).splitlines()
    assert "model:      base" in shown and line in shown
