"""IPC fixtures shared by the IPC tests and the daemon CLI tests: a real IpcServer on `socket_path` (each
folder's tests give that fixture), answering through a FakeController."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from onevox.daemon.events import EventBus
from onevox.ipc.server import IpcServer
from tests.ipc.doubles import FakeController


@pytest.fixture
def controller() -> FakeController:
    return FakeController()


@pytest.fixture
def bus() -> Iterator[EventBus]:
    bus = EventBus()
    yield bus
    bus.close()


@pytest.fixture
def server(socket_path: Path, controller: FakeController, bus: EventBus) -> Iterator[IpcServer]:
    srv = IpcServer(socket_path, controller.dispatch, bus.subscribe)
    srv.start()
    yield srv
    controller.gate.set()  # a command held on the gate is let go before the server stops
    srv.stop()
