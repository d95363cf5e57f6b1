"""`onevox models list|info|download|remove` through click's CliRunner, with XDG folders in tmp_path and
downloads from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from onevox import paths
from onevox.cli import cli
from onevox.models import BUNDLED_NAME, CATALOG, bundled_model_path, catalog
from onevox.models.catalog import ModelSpec
from tests.models.httpfixture import ModelServer, fixture_files, spec_for, write_folder

Fixture = tuple[ModelSpec, dict[str, bytes]]


@pytest.fixture(autouse=True)
def _isolated(isolated_xdg: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("ONEVOX_MODEL_BASE_URL", raising=False)
    return isolated_xdg


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelServer]:
    model_server = ModelServer().start()
    monkeypatch.setenv("ONEVOX_MODEL_BASE_URL", model_server.base_url)
    yield model_server
    model_server.stop()


@pytest.fixture
def fixture_model(server: ModelServer, monkeypatch: pytest.MonkeyPatch) -> Fixture:
    files = fixture_files()
    spec = spec_for("fixture-cli", files)
    monkeypatch.setitem(catalog.CATALOG, spec.name, spec)
    server.publish(spec, files)
    return spec, files


def run(*args: str, config: Path | None = None) -> Result:
    argv = (["--config", str(config)] if config else []) + list(args)
    return CliRunner().invoke(cli, argv)


def _write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "onevox.toml"
    path.write_text(text)
    return path


def _one_line_error(result: Result, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("onevox: "), result.stderr
    return lines[0]


def test_list_shows_every_model_and_marks_the_default() -> None:
    result = run("models", "list")

    assert result.exit_code == 0, result.output
    for name in CATALOG:
        assert name in result.stdout
    default_line = next(line for line in result.stdout.splitlines() if f" {BUNDLED_NAME} " in line)
    assert default_line.lstrip().startswith("*")
    assert "bundled" in default_line
    assert "[model] name" in result.stdout


def test_list_json() -> None:
    result = run("models", "list", "--json")

    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == set(CATALOG)
    tiny = rows[BUNDLED_NAME]
    assert (tiny["installed"], tiny["source"], tiny["default"]) == (True, "bundled", True)
    assert tiny["path"] == str(bundled_model_path())
    base = rows["base"]
    assert (base["installed"], base["source"], base["default"]) == (False, None, False)
    assert rows["base"]["size_bytes"] == CATALOG["base"].size_bytes


def test_list_marks_the_configured_model(tmp_path: Path) -> None:
    config = _write_config(tmp_path, '[model]\nname = "small.en"\n')

    rows = json.loads(run("models", "list", "--json", config=config).stdout)

    assert [row["name"] for row in rows if row["default"]] == ["small.en"]


def test_list_shows_a_configured_folder_path(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "mine", fixture_files())
    config = _write_config(tmp_path, f'[model]\nname = "{folder}"\n')

    rows = json.loads(run("models", "list", "--json", config=config).stdout)

    assert rows[-1] == {**rows[-1], "name": str(folder), "source": "path", "installed": True, "default": True}


def test_list_with_a_broken_config_still_lists_and_warns(tmp_path: Path) -> None:
    config = _write_config(tmp_path, "[model\n")

    result = run("models", "list", config=config)

    assert result.exit_code == 0
    assert "warning" in result.stderr and "not valid TOML" in result.stderr
    assert BUNDLED_NAME in result.stdout


def test_info_of_the_bundled_model() -> None:
    result = run("models", "info", BUNDLED_NAME)

    assert result.exit_code == 0, result.output
    assert f"path:          {bundled_model_path()}" in result.stdout
    assert "mel bins:      80" in result.stdout
    assert "vocabulary:    51864" in result.stdout
    assert "multilingual:  no" in result.stdout
    assert "source:        bundled" in result.stdout


def test_info_json_of_a_folder(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "mine", fixture_files(n_mels=128))

    info = json.loads(run("models", "info", str(folder), "--json").stdout)

    assert info["source"] == "path"
    assert (info["n_mels"], info["vocab_size"], info["multilingual"]) == (128, 51864, False)
    assert info["size_bytes"] == sum(p.stat().st_size for p in folder.iterdir())


def test_info_of_a_model_not_downloaded_says_how_to_get_it() -> None:
    result = run("models", "info", "base.en")

    assert result.exit_code == 0
    assert "installed:     no; run `onevox models download base.en`" in result.stdout
    assert CATALOG["base.en"].repo in result.stdout


def test_info_of_something_unknown_is_one_line() -> None:
    assert "unknown model 'nothing'" in _one_line_error(run("models", "info", "nothing"))


def test_download_then_remove(fixture_model: Fixture) -> None:
    spec, files = fixture_model

    result = run("models", "download", spec.name, "--quiet")

    assert result.exit_code == 0, result.output
    target = paths.models_dir() / spec.name
    assert f"downloaded {spec.name}" in result.stdout and str(target) in result.stdout
    assert {p.name: p.read_bytes() for p in target.iterdir()} == files
    again = run("models", "download", spec.name)
    assert "is already downloaded" in again.stdout

    removed = run("models", "remove", spec.name)

    assert removed.exit_code == 0
    assert f"removed {spec.name}" in removed.stdout
    assert not target.exists()


def test_download_shows_progress_on_stderr(fixture_model: Fixture) -> None:
    result = run("models", "download", fixture_model[0].name)

    assert result.exit_code == 0, result.output
    assert fixture_model[0].name in result.stderr


def test_download_of_the_bundled_model_needs_no_network(server: ModelServer) -> None:
    result = run("models", "download", BUNDLED_NAME)

    assert result.exit_code == 0
    assert "is bundled with onevox" in result.stdout
    assert server.requests == []


def test_download_failure_is_one_line(fixture_model: Fixture, server: ModelServer) -> None:
    spec, _files = fixture_model
    del server.files[server.path_of(spec, "model.bin")]

    line = _one_line_error(run("models", "download", spec.name, "--quiet"))

    assert "HTTP 404" in line


def test_download_of_an_unknown_name_is_one_line() -> None:
    assert "unknown model 'enormous'" in _one_line_error(run("models", "download", "enormous"))


def test_remove_refuses_the_bundled_model_and_paths(tmp_path: Path) -> None:
    assert "cannot be removed" in _one_line_error(run("models", "remove", BUNDLED_NAME))
    folder = write_folder(tmp_path / "mine", fixture_files())
    assert "folder of your own" in _one_line_error(run("models", "remove", str(folder)))
    assert folder.exists()


def test_download_without_a_name_fetches_the_configured_model(fixture_model: Fixture, tmp_path: Path) -> None:
    spec, _files = fixture_model
    config = _write_config(tmp_path, f'[model]\nname = "{spec.name}"\n')

    result = run("models", "download", "-q", config=config)

    assert result.exit_code == 0, result.output
    assert (paths.models_dir() / spec.name / "model.bin").is_file()
    info = json.loads(run("models", "info", "--json", config=config).stdout)
    assert (info["name"], info["source"], info["installed"]) == (spec.name, "downloaded", True)


def test_download_of_a_configured_folder_path_is_refused(tmp_path: Path) -> None:
    config = _write_config(tmp_path, '[model]\nname = "~/my-model"\n')

    assert "is a folder path" in _one_line_error(run("models", "download", config=config))
