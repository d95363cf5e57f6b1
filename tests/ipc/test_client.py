"""IpcClient against real sockets: clear errors for every way the daemon can be unreachable."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from onevox.daemon.events import EventBus
from onevox.errors import IpcError
from onevox.ipc.client import DaemonNotRunning, IpcClient
from onevox.ipc.server import IpcServer, ServerLimits
from tests.ipc.doubles import WAIT_S, FakeController, connect, request_line


def test_missing_socket_says_how_to_start_the_daemon(sock_dir: Path) -> None:
    path = sock_dir / "onevox.sock"
    with pytest.raises(DaemonNotRunning) as caught:
        IpcClient(path).request("status")
    assert str(caught.value) == (f"onevox daemon is not running (no socket at {path}); "
                                 "start it with `onevox daemon`")
    assert caught.value.exit_code == 3 and caught.value.code == "not_running"


def test_socket_nobody_listens_on_is_not_running(sock_dir: Path) -> None:
    path = sock_dir / "onevox.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(os.fspath(path))
    stale.close()
    with pytest.raises(DaemonNotRunning, match="nothing listening on"):
        IpcClient(path).request("status")


def test_silent_daemon_times_out(sock_dir: Path) -> None:
    path = sock_dir / "onevox.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(os.fspath(path))
        listener.listen(1)  # accepts into the backlog, never answers
        with pytest.raises(IpcError, match=r"did not answer `status` within 0\.2 s") as caught:
            IpcClient(path, timeout=0.2).request("status")
    assert caught.value.code == "timeout"


def test_daemon_hanging_up_without_answer(sock_dir: Path) -> None:
    path = sock_dir / "onevox.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(os.fspath(path))
        listener.listen(1)

        def hang_up() -> None:
            conn, _ = listener.accept()
            conn.recv(1024)
            conn.close()

        thread = threading.Thread(target=hang_up, daemon=True)
        thread.start()
        with pytest.raises(IpcError, match="closed the connection without answering") as caught:
            IpcClient(path, timeout=WAIT_S).request("toggle")
        thread.join(WAIT_S)
    assert caught.value.code == "disconnected"


def test_daemon_errors_keep_their_code(server: IpcServer) -> None:
    with pytest.raises(IpcError, match="nothing to cancel") as caught:
        IpcClient(server.socket_path).request("cancel")
    assert caught.value.code == "failed" and caught.value.exit_code == 1


def test_one_client_sends_many_requests(server: IpcServer) -> None:
    client = IpcClient(server.socket_path)
    results = [client.request("status", n=n)["echo"]["n"] for n in range(5)]
    assert results == list(range(5))


def test_events_yields_published_events(server: IpcServer, bus) -> None:
    client = IpcClient(server.socket_path)
    got: list[dict] = []
    finished = threading.Event()

    def read() -> None:
        for event in client.events():
            got.append(event)
        finished.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = threading.Event()
    while bus.subscriber_count == 0 and not deadline.wait(0.01):
        pass
    bus.publish("recording_started", dictation=3)
    bus.publish("injected", method="paste", timings={"injection": 31.0})
    bus.close()
    assert finished.wait(WAIT_S)
    assert [(e["event"], e.get("dictation"), e.get("method")) for e in got] == [
        ("recording_started", 3, None), ("injected", None, "paste")]


def test_events_against_missing_daemon(sock_dir: Path) -> None:
    with pytest.raises(DaemonNotRunning):
        next(IpcClient(sock_dir / "none.sock").events())


def test_a_held_slot_does_not_refuse_the_next_client(sock_dir: Path) -> None:
    limits = ServerLimits(max_connections=1, max_subscribers=0)
    srv = IpcServer(sock_dir / "s.sock", FakeController().dispatch, limits=limits)
    with srv, connect(srv.socket_path) as held:
        held.sendall(request_line(1, "ping"))
        assert held.recv(4096).endswith(b"\n")  # accepted and served: the one slot is taken
        assert IpcClient(srv.socket_path).request("status")["state"] == "idle"


def test_refused_subscriber_gets_the_servers_reason(sock_dir: Path, bus: EventBus) -> None:
    limits = ServerLimits(max_connections=2, max_subscribers=1)
    srv = IpcServer(sock_dir / "s.sock", FakeController().dispatch, bus.subscribe, limits)
    with srv, connect(srv.socket_path) as first:
        first.sendall(request_line(1, "subscribe"))
        assert b'"subscribed":true' in first.recv(4096)
        with pytest.raises(IpcError, match="too many event subscribers") as caught:
            next(IpcClient(srv.socket_path).events())
        assert caught.value.code == "busy"
