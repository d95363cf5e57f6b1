"""The daemon CLI tests talk to the same real IpcServer and FakeController as the IPC tests, on a socket
that a config file names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ipc.doubles import short_tmp_dir
from tests.ipc.fixtures import bus, controller, server  # noqa: F401 (fixtures)


@pytest.fixture
def socket_path(isolated_xdg: Path) -> Iterator[Path]:
    with short_tmp_dir() as folder:
        yield folder / "run" / "onevox.sock"


@pytest.fixture
def config_file(isolated_xdg: Path, socket_path: Path) -> Path:
    path = isolated_xdg / "onevox.toml"
    path.write_text(f'[daemon]\nsocket = "{socket_path}"\n')
    return path
