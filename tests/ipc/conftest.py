"""A real IpcServer on a short temporary socket, answering through a FakeController."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from onevox.daemon.events import EventBus
from onevox.ipc.server import IpcServer
from tests.ipc.doubles import FakeController, short_tmp_dir


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    with short_tmp_dir() as path:
        yield path


@pytest.fixture
def controller() -> FakeController:
    return FakeController()


@pytest.fixture
def bus() -> Iterator[EventBus]:
    bus = EventBus()
    yield bus
    bus.close()


@pytest.fixture
def server(sock_dir: Path, controller: FakeController, bus: EventBus) -> Iterator[IpcServer]:
    srv = IpcServer(sock_dir / "run" / "onevox.sock", controller.dispatch, bus.subscribe)
    srv.start()
    yield srv
    controller.gate.set()
    srv.stop()
