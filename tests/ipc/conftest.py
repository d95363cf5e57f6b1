"""A real IpcServer on a short temporary socket, answering through a FakeController."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ipc.doubles import short_tmp_dir
from tests.ipc.fixtures import bus, controller, server  # noqa: F401 (fixtures)


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    with short_tmp_dir() as path:
        yield path


@pytest.fixture
def socket_path(sock_dir: Path) -> Path:
    return sock_dir / "run" / "onevox.sock"
