"""What makes a folder a usable CTranslate2 Whisper model, checked from its files without loading it.

CTranslate2 needs model.bin and a vocabulary file; faster-whisper needs tokenizer.json (without it, it
would fetch a tokenizer from the network, which onevox never does). The model.bin header names the model
spec, so a translation model or a whisper.cpp file is told apart from a Whisper one.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onevox.errors import ModelError

REQUIRED_FILES = ("config.json", "model.bin", "tokenizer.json")
VOCABULARY_FILES = ("vocabulary.json", "vocabulary.txt")
WHISPER_SPEC = "WhisperSpec"
# CTranslate2 treats a Whisper model as multilingual when its vocabulary has at least this many tokens.
MULTILINGUAL_VOCAB_SIZE = 51865
DEFAULT_N_MELS = 80
_HEADER_BYTES = 256


@dataclass(frozen=True)
class ModelDetails:
    path: Path
    size_bytes: int  # all files in the folder
    files: tuple[str, ...]
    binary_version: int  # CTranslate2 model.bin format version
    n_mels: int  # mel bins the encoder expects (80, or 128 for large-v3)
    vocab_size: int
    multilingual: bool


def check_model_dir(path: str | Path) -> None:
    """Raise ModelError naming what is wrong unless `path` holds a usable CTranslate2 Whisper model."""
    folder = _existing_folder(Path(path))
    _check_files(folder)
    _read_header(folder / "model.bin")
    _read_json(folder / "config.json", dict)


def read_model_details(path: str | Path) -> ModelDetails:
    """Check the folder, then describe it (what `onevox models info` shows)."""
    folder = Path(path)
    check_model_dir(folder)
    version = _read_header(folder / "model.bin")
    files = sorted(p for p in folder.iterdir() if p.is_file())
    vocab_size = _vocabulary_size(folder)
    return ModelDetails(path=folder, size_bytes=sum(p.stat().st_size for p in files),
                        files=tuple(p.name for p in files), binary_version=version,
                        n_mels=_n_mels(folder), vocab_size=vocab_size,
                        multilingual=vocab_size >= MULTILINGUAL_VOCAB_SIZE)


def _existing_folder(folder: Path) -> Path:
    if not folder.exists():
        raise ModelError(f"model folder {folder} does not exist")
    if not folder.is_dir():
        raise ModelError(f"{folder} is a file; a model is a folder holding model.bin, config.json, "
                         "tokenizer.json and a vocabulary file")
    return folder


def _check_files(folder: Path) -> None:
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if not any((folder / name).is_file() for name in VOCABULARY_FILES):
        missing.append("vocabulary.txt or vocabulary.json")
    if missing:
        raise ModelError(f"{folder} is not a CTranslate2 Whisper model folder: missing {', '.join(missing)} "
                         "(use a name from `onevox models list`, or a folder converted with "
                         "ct2-transformers-converter and copied with its tokenizer files)")
    if (folder / "model.bin").stat().st_size == 0:
        raise ModelError(f"{folder / 'model.bin'} is empty (an interrupted copy or download?)")


def _read_header(model_bin: Path) -> int:
    """The model.bin format version, after checking that the file says it holds a Whisper model."""
    with model_bin.open("rb") as handle:
        head = handle.read(_HEADER_BYTES)
    damaged = ModelError(f"{model_bin} is not a CTranslate2 model file (damaged, or another format "
                         "such as a whisper.cpp .bin?)")
    if len(head) < 6:
        raise damaged
    version: int
    name_len: int
    version, name_len = struct.unpack_from("<IH", head)
    # Version 2 added the spec name; Whisper support arrived long after, so anything older is not one.
    if not 2 <= version <= 100 or not 0 < name_len <= len(head) - 6:
        raise damaged
    try:
        spec = head[6:6 + name_len].rstrip(b"\0").decode("ascii")
    except UnicodeDecodeError:
        raise damaged from None
    if spec != WHISPER_SPEC:
        raise ModelError(f"{model_bin} holds a CTranslate2 {spec or 'unnamed'} model, not a Whisper model")
    return version


def _read_json(path: Path, kind: type) -> Any:
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ModelError(f"{path} is not valid UTF-8 (byte {exc.start}): the file is damaged") from exc
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}): "
                         "the file is damaged") from exc
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not isinstance(data, kind):
        raise ModelError(f"{path} should hold a JSON {'object' if kind is dict else 'list'}, "
                         f"not {type(data).__name__}")
    return data


def _vocabulary_size(folder: Path) -> int:
    json_vocab = folder / "vocabulary.json"
    if json_vocab.is_file():
        return len(_read_json(json_vocab, list))
    # CTranslate2 reads vocabulary.txt one token per '\n'-terminated line.
    lines = (folder / "vocabulary.txt").read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return len(lines)


def _n_mels(folder: Path) -> int:
    """faster-whisper sizes its mel features from preprocessor_config.json; 80 when there is none."""
    preprocessor = folder / "preprocessor_config.json"
    if not preprocessor.is_file():
        return DEFAULT_N_MELS
    value = _read_json(preprocessor, dict).get("feature_size", DEFAULT_N_MELS)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ModelError(f"{preprocessor}: feature_size should be a positive whole number, got {value!r}")
    return value
