"""Where downloaded models live on disk, and the moves that keep that folder consistent.

Layout under paths.models_dir(): `<name>/` is a complete, verified model; `.<name>.download/` is an
unfinished download (its finished files plus one `<file>.part`); `.<name>.lock` serialises downloads and
removals of one model between processes. A model folder appears only by renaming a finished download.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from onevox import paths
from onevox.errors import ModelError
from onevox.models.catalog import ModelSpec


def installed_dir(name: str) -> Path:
    return paths.models_dir() / name


def staging_dir(name: str) -> Path:
    return paths.models_dir() / f".{name}.download"


def size_problems(folder: Path, spec: ModelSpec) -> list[str]:
    """Files of an installed catalog model that are missing or of the wrong size (cheap: stat only)."""
    problems = []
    for file in spec.files:
        try:
            size = (folder / file.name).stat().st_size
        except FileNotFoundError:
            problems.append(f"{file.name} is missing")
            continue
        if size != file.size:
            problems.append(f"{file.name} is {size} bytes, expected {file.size}")
    return problems


@contextlib.contextmanager
def model_lock(name: str) -> Iterator[None]:
    """Hold the per-model lock; ModelError at once when another process holds it."""
    root = paths.models_dir()
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / f".{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ModelError(f"another onevox process is downloading or removing {name}; "
                             "wait for it to finish") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def fsync_tree(folder: Path) -> None:
    """Flush every file of a finished download, and the folder itself, to disk before it is renamed."""
    for entry in folder.iterdir():
        if entry.is_file():
            fd = os.open(entry, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def install(staging: Path, target: Path) -> None:
    """Rename a finished download into place; an older copy is moved aside first and deleted after."""
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError as exc:
        if old.exists() and not target.exists():
            os.rename(old, target)
        raise ModelError(f"cannot move the finished download into {target}: {exc.strerror or exc}") from exc
    fsync_dir(target.parent)
    shutil.rmtree(old, ignore_errors=True)


def delete_tree(folder: Path) -> None:
    try:
        shutil.rmtree(folder)
    except FileNotFoundError:
        pass
    except OSError as exc:
        reason = "permission denied" if exc.errno in (errno.EACCES, errno.EPERM) else exc.strerror or exc
        raise ModelError(f"cannot delete {folder}: {reason}") from exc
