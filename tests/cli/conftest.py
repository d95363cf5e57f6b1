"""The daemon CLI tests talk to the same real IpcServer and FakeController as the IPC tests."""

from tests.ipc.fixtures import bus, controller, server  # noqa: F401 (fixtures)
