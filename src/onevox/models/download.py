"""Fetch a named model into paths.models_dir()/<name>/: every file into a staging folder beside it
(resumable), verified, flushed to disk, then the folder renamed into place in one step.

The base URL is the catalog's (Hugging Face); ONEVOX_MODEL_BASE_URL, or the base_url argument, points it at
a mirror with the same `<repo>/resolve/<revision>/<file>` layout (tests use a server on 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from onevox.errors import ModelError
from onevox.models import store
from onevox.models.catalog import DEFAULT_BASE_URL, ModelSpec, get_spec
from onevox.models.fetch import FetchOptions, RemoteFile, fetch_file
from onevox.models.folder import check_model_dir

BASE_URL_ENV = "ONEVOX_MODEL_BASE_URL"
_FREE_SPACE_MARGIN = 16 << 20  # keep a little room so the disk is not filled to the last byte


@dataclass(frozen=True)
class DownloadOptions:
    fetch: FetchOptions = field(default_factory=FetchOptions)  # timeouts, retries, chunk size per file
    force: bool = False  # download again even when a good copy is installed


def download_model(name: str, *, base_url: str | None = None, progress: bool = True,
                   options: DownloadOptions | None = None) -> Path:
    """Download the catalog model `name` (a no-op when a good copy is installed); returns its folder."""
    spec = get_spec(name)
    opts = options or DownloadOptions()
    base = _base_url(base_url)
    target = store.installed_dir(name)
    with store.model_lock(name):
        if target.is_dir() and not opts.force and _is_good(target, spec):
            return target
        staging = store.staging_dir(name)
        staging.mkdir(parents=True, exist_ok=True)
        _check_free_space(staging, spec)
        with _progress(progress, spec) as report:
            done = 0
            for file in spec.files:
                dest = staging / file.name
                if not (dest.is_file() and dest.stat().st_size == file.size):
                    remote = RemoteFile(spec.file_url(base, file.name), dest, file.size, file.sha256)
                    fetch_file(remote, opts.fetch, _after(done, report))
                done += file.size
                report(done)
        _verify_staging(staging, spec)
        store.fsync_tree(staging)
        store.install(staging, target)
    return target


def _base_url(explicit: str | None) -> str:
    base = (explicit or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
    parsed = urllib.parse.urlsplit(base)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        source = "base_url" if explicit else BASE_URL_ENV
        raise ModelError(f"{source} must be an http(s) URL such as {DEFAULT_BASE_URL}, got {base!r}")
    return base


def _is_good(folder: Path, spec: ModelSpec) -> bool:
    if store.size_problems(folder, spec):
        return False
    try:
        check_model_dir(folder)
    except ModelError:
        return False
    return True


def _check_free_space(staging: Path, spec: ModelSpec) -> None:
    needed = 0
    for file in spec.files:
        for candidate in (staging / file.name, staging / f"{file.name}.part"):
            if candidate.is_file():
                needed -= min(candidate.stat().st_size, file.size)
        needed += file.size
    free = shutil.disk_usage(staging).free
    if needed + _FREE_SPACE_MARGIN > free:
        raise ModelError(f"not enough disk space for {spec.name}: it needs {_mb(needed)} more in "
                         f"{staging.parent}, and {_mb(free)} is free")


def _verify_staging(staging: Path, spec: ModelSpec) -> None:
    problems = store.size_problems(staging, spec)
    if problems:
        raise ModelError(f"the download of {spec.name} is incomplete ({'; '.join(problems)}); "
                         "run the command again")
    check_model_dir(staging)


def _after(before: int, report: Callable[[int], None]) -> Callable[[int], None]:
    """A file's progress (its bytes done) as the model's: the files before it are done."""
    return lambda n: report(before + n)


@contextlib.contextmanager
def _progress(enabled: bool, spec: ModelSpec) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr for the whole model; `report(bytes_done)` moves it."""
    if not enabled:
        yield lambda _done: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(f"{spec.name}", total=spec.size_bytes)
        yield lambda done: bar.update(task, completed=done)


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"
