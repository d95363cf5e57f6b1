"""check_model_dir / read_model_details: what is a usable CTranslate2 Whisper folder, and what is not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onevox.errors import ModelError
from onevox.models import bundled_model_path, check_model_dir, read_model_details
from tests.models.httpfixture import fixture_files, model_bin_bytes, write_folder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_folder(tmp_path / "model", fixture_files())


def test_fixture_folder_is_accepted_and_described(folder: Path) -> None:
    check_model_dir(folder)
    details = read_model_details(folder)

    assert details.files == ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")
    assert details.size_bytes == sum(p.stat().st_size for p in folder.iterdir())
    assert (details.n_mels, details.vocab_size, details.multilingual) == (80, 51864, False)
    assert details.binary_version == 6


def test_multilingual_large_v3_layout(tmp_path: Path) -> None:
    files = fixture_files(vocab_size=0, n_mels=128)
    del files["vocabulary.txt"]
    files["vocabulary.json"] = json.dumps([f"t{i}" for i in range(51866)]).encode()
    details = read_model_details(write_folder(tmp_path / "v3", files))

    assert (details.n_mels, details.vocab_size, details.multilingual) == (128, 51866, True)


def test_bundled_tiny_en_is_english_only_with_80_mels() -> None:
    path = bundled_model_path()
    assert path is not None
    details = read_model_details(path)

    assert (details.n_mels, details.vocab_size, details.multilingual) == (80, 51864, False)


@pytest.mark.parametrize("missing", ["config.json", "model.bin", "tokenizer.json"])
def test_missing_required_file_is_named(folder: Path, missing: str) -> None:
    (folder / missing).unlink()

    with pytest.raises(ModelError, match=rf"not a CTranslate2 Whisper model folder: missing {missing}"):
        check_model_dir(folder)


def test_missing_vocabulary_is_named(folder: Path) -> None:
    (folder / "vocabulary.txt").unlink()

    with pytest.raises(ModelError, match=r"missing vocabulary\.txt or vocabulary\.json"):
        check_model_dir(folder)


def test_empty_model_bin(folder: Path) -> None:
    (folder / "model.bin").write_bytes(b"")

    with pytest.raises(ModelError, match=r"model\.bin is empty"):
        check_model_dir(folder)


@pytest.mark.parametrize("content", [b"\0\0", b"ggml" + b"\0" * 100, b"\x06\0\0\0\xff\xff" + b"x" * 50,
                                     b"\x06\0\0\0\x05\0\xff\xfe\xfd\xfc\0"])
def test_model_bin_that_is_not_ctranslate2(folder: Path, content: bytes) -> None:
    (folder / "model.bin").write_bytes(content)

    with pytest.raises(ModelError, match="not a CTranslate2 model file"):
        check_model_dir(folder)


def test_ctranslate2_model_of_another_kind(folder: Path) -> None:
    (folder / "model.bin").write_bytes(model_bin_bytes(1000, spec_name="TransformerSpec"))

    with pytest.raises(ModelError, match="holds a CTranslate2 TransformerSpec model, not a Whisper model"):
        check_model_dir(folder)


@pytest.mark.parametrize(("content", "message"), [
    (b'{"alignment_heads": [', r"config\.json is not valid JSON \(line 1"),
    (b"\xff\xfe{}", r"config\.json is not valid UTF-8"),
    (b"[1, 2]", r"config\.json should hold a JSON object, not list"),
])
def test_corrupt_config(folder: Path, content: bytes, message: str) -> None:
    (folder / "config.json").write_bytes(content)

    with pytest.raises(ModelError, match=message):
        check_model_dir(folder)


def test_bad_preprocessor_feature_size(folder: Path) -> None:
    (folder / "preprocessor_config.json").write_text('{"feature_size": "many"}')

    with pytest.raises(ModelError, match="feature_size should be a positive whole number"):
        read_model_details(folder)


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        check_model_dir(tmp_path / "nope")


def test_path_that_is_a_file(folder: Path) -> None:
    with pytest.raises(ModelError, match="is a file; a model is a folder"):
        check_model_dir(folder / "model.bin")


@pytest.mark.model
def test_ctranslate2_agrees_with_the_file_based_details(tmp_path: Path) -> None:
    """The real engine loads what check_model_dir accepts, and reports the same mel bins and languages."""
    import ctranslate2

    path = bundled_model_path()
    assert path is not None
    model = ctranslate2.models.Whisper(str(path), device="cpu", compute_type="int8", intra_threads=1)
    details = read_model_details(path)

    assert (model.n_mels, model.is_multilingual) == (details.n_mels, details.multilingual)
    # ... and a folder check_model_dir rejects for its missing vocabulary does not load either.
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "model.bin", "tokenizer.json"):
        (broken / name).symlink_to(path / name)
    with pytest.raises(ModelError):
        check_model_dir(broken)
    with pytest.raises(RuntimeError, match="vocabulary"):
        ctranslate2.models.Whisper(str(broken), device="cpu", intra_threads=1)
