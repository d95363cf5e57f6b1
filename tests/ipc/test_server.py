"""A real IpcServer on a temporary socket: permissions, concurrency, bad input, limits, shutdown."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from onevox.errors import IpcError
from onevox.ipc import protocol as proto
from onevox.ipc.client import IpcClient
from onevox.ipc.server import IpcServer, ServerLimits
from tests.ipc.doubles import (
    WAIT_S,
    FakeController,
    ListSubscription,
    connect,
    exchange,
    exchange_json,
    request_line,
)
from tests.support.waiting import wait_until


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _ping_ok(path: Path) -> bool:
    return IpcClient(path, timeout=WAIT_S).request("ping")["pong"] is True


def test_socket_is_0600_in_a_0700_folder(server: IpcServer) -> None:
    assert stat.S_ISSOCK(os.lstat(server.socket_path).st_mode)
    assert _mode(server.socket_path) == 0o600
    assert _mode(server.socket_path.parent) == 0o700


def test_existing_folder_of_ours_is_made_private(sock_dir: Path, controller: FakeController) -> None:
    folder = sock_dir / "loose"
    folder.mkdir(mode=0o755)
    with IpcServer(folder / "s.sock", controller.dispatch):
        assert _mode(folder) == 0o700


def test_shared_sticky_folder_is_left_alone(sock_dir: Path, controller: FakeController) -> None:
    shared = sock_dir / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    with IpcServer(shared / "s.sock", controller.dispatch) as srv:
        assert _mode(shared) == 0o1777
        assert _mode(srv.socket_path) == 0o600


def test_ping_is_answered_by_the_server_itself(server: IpcServer, controller: FakeController) -> None:
    result = IpcClient(server.socket_path).request("ping")
    assert result["pong"] is True and result["pid"] == os.getpid() and result["protocol"] == 1
    assert controller.calls == []


def test_commands_reach_dispatch_with_their_args(server: IpcServer, controller: FakeController) -> None:
    result = IpcClient(server.socket_path).request("status", verbose=True)
    assert result["state"] == "idle" and result["echo"] == {"verbose": True}
    answer = IpcClient(server.socket_path).request("stop_dictation")
    assert answer == {"state": "idle", "cmd": "stop_dictation"}
    assert controller.commands() == ["status", "stop_dictation"]


def test_slow_command_does_not_delay_other_clients(server: IpcServer, controller: FakeController) -> None:
    controller.gate.clear()
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(IpcClient(server.socket_path, timeout=WAIT_S).request, "toggle")
        assert controller.entered.wait(WAIT_S)
        # toggle is still blocked inside dispatch: ping and status must answer anyway
        assert _ping_ok(server.socket_path)
        assert IpcClient(server.socket_path).request("status")["state"] == "idle"
        assert not slow.done()
        controller.gate.set()
        assert slow.result(WAIT_S) == {"state": "recording"}


def test_status_answers_while_all_workers_are_busy(sock_dir: Path, controller: FakeController) -> None:
    controller.gate.clear()
    srv = IpcServer(sock_dir / "s.sock", controller.dispatch, limits=ServerLimits(dispatch_workers=2))
    with srv, ThreadPoolExecutor(3) as pool:
        stuck = [pool.submit(IpcClient(srv.socket_path).request, "toggle") for _ in range(3)]
        assert controller.entered.wait(WAIT_S)
        assert IpcClient(srv.socket_path).request("status")["state"] == "idle"
        controller.gate.set()
        assert [f.result(WAIT_S) for f in stuck] == [{"state": "recording"}] * 3


def test_many_concurrent_clients_get_their_own_answers(server: IpcServer) -> None:
    def run(worker: int) -> list[bool]:
        client = IpcClient(server.socket_path)
        return [client.request("status", worker=worker, n=n)["echo"] == {"worker": worker, "n": n}
                for n in range(15)]

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(run, range(24)))
    assert all(all(r) for r in results)


def test_pipelined_requests_are_answered_in_order(server: IpcServer) -> None:
    data = b"".join(request_line(i, "ping") for i in range(1, 51))
    responses = exchange_json(server.socket_path, data)
    assert [r["id"] for r in responses] == list(range(1, 51))
    assert all(r["ok"] for r in responses)


@pytest.mark.parametrize(("line", "code"), [
    (b"hello there", proto.BAD_JSON),
    (b"\x00\x01\x02\xff\xfe binary", proto.BAD_JSON),
    (b"[]", proto.BAD_REQUEST),
    (b'{"v":1,"cmd":"status"}', proto.BAD_REQUEST),
    (b'{"v":9,"id":1,"cmd":"status"}', proto.UNSUPPORTED_VERSION),
    (b'{"v":1,"id":1,"cmd":"rm -rf"}', proto.UNKNOWN_COMMAND),
])
def test_bad_requests_get_errors_and_the_server_carries_on(server: IpcServer, line: bytes, code: str) -> None:
    responses = exchange_json(server.socket_path, line + b"\n" + request_line(2, "ping"))
    assert responses[0]["ok"] is False and responses[0]["error"]["code"] == code
    assert responses[1] == {"v": 1, "id": 2, "ok": True, "result": responses[1]["result"]}
    assert _ping_ok(server.socket_path)


def test_blank_lines_are_ignored_and_last_line_needs_no_newline(server: IpcServer) -> None:
    responses = exchange_json(server.socket_path, b"\n\r\n  \n" + request_line(1, "ping").rstrip(b"\n"))
    assert [r["id"] for r in responses] == [1]


def test_oversized_line_gets_too_large_then_close(server: IpcServer) -> None:
    data = b'{"v":1,"id":1,"cmd":"ping","pad":"' + b"x" * (70 * 1024) + b'"}\n' + request_line(2, "ping")
    lines = exchange(server.socket_path, data)
    assert len(lines) == 1
    assert json.loads(lines[0])["error"]["code"] == proto.TOO_LARGE
    assert _ping_ok(server.socket_path)


def test_line_of_exactly_the_limit_is_served(server: IpcServer) -> None:
    line = b'{"v":1,"id":1,"cmd":"ping"}'.ljust(proto.MAX_LINE_BYTES) + b"\n"
    assert exchange_json(server.socket_path, line)[0]["ok"] is True


def test_expected_failure_from_dispatch_is_a_failed_error(server: IpcServer) -> None:
    with pytest.raises(IpcError, match="nothing to cancel") as caught:
        IpcClient(server.socket_path).request("cancel")
    assert caught.value.code == proto.FAILED


@pytest.mark.parametrize("bad_result", [RuntimeError("boom"), ["not", "a", "dict"], {"x": object()}])
def test_dispatch_bugs_are_internal_errors(sock_dir: Path, bad_result: object) -> None:
    def dispatch(cmd: str, args: dict) -> dict:
        if isinstance(bad_result, Exception):
            raise bad_result
        return bad_result  # type: ignore[return-value]

    with IpcServer(sock_dir / "s.sock", dispatch) as srv:
        with pytest.raises(IpcError) as caught:
            IpcClient(srv.socket_path).request("toggle")
        assert caught.value.code == proto.INTERNAL
        assert _ping_ok(srv.socket_path)


def test_subscribe_streams_bus_events_until_client_leaves(server: IpcServer, bus) -> None:
    sock = connect(server.socket_path)
    sock.sendall(request_line(1, "subscribe"))
    stream = sock.makefile("rb")
    assert json.loads(stream.readline()) == {"v": 1, "id": 1, "ok": True, "result": {"subscribed": True}}
    wait_until(lambda: bus.subscriber_count == 1)
    bus.publish("recording_started", dictation=1)
    bus.publish("transcribed", text="hello world", timings={"inference": 80.5})
    first, second = json.loads(stream.readline()), json.loads(stream.readline())
    assert first["event"] == "recording_started" and first["dictation"] == 1 and first["v"] == 1
    assert second["event"] == "transcribed" and second["text"] == "hello world"
    stream.close()
    sock.close()
    wait_until(lambda: bus.subscriber_count == 0)
    assert _ping_ok(server.socket_path)


def test_event_stream_ends_when_bus_closes(server: IpcServer, bus) -> None:
    received = []
    client = IpcClient(server.socket_path)
    done = threading.Event()

    def read() -> None:
        received.extend(client.events())
        done.set()

    threading.Thread(target=read, daemon=True).start()
    wait_until(lambda: bus.subscriber_count == 1)
    bus.publish("state", state="recording")
    bus.close()
    assert done.wait(WAIT_S)
    assert [e["event"] for e in received] == ["state"]


def test_subscriber_that_stops_reading_is_dropped(sock_dir: Path, controller: FakeController) -> None:
    payload = "x" * 1000
    subscription = ListSubscription({"event": "transcribed", "n": n, "text": payload} for n in range(100_000))
    limits = ServerLimits(event_backlog_bytes=64 * 1024)
    with IpcServer(sock_dir / "s.sock", controller.dispatch, lambda: subscription, limits) as srv:
        sock = connect(srv.socket_path)
        sock.sendall(request_line(1, "subscribe"))  # ...and never read
        assert subscription.closed.wait(WAIT_S)
        assert srv.stats()["dropped_subscribers"] == 1
        assert _ping_ok(srv.socket_path)
        sock.close()


def test_a_newcomer_takes_the_slot_of_the_longest_idle_connection(sock_dir: Path,
                                                                   controller: FakeController) -> None:
    limits = ServerLimits(max_connections=2, max_subscribers=1)
    with IpcServer(sock_dir / "s.sock", controller.dispatch, limits=limits) as srv:
        held = [connect(srv.socket_path) for _ in range(2)]
        for n, sock in enumerate(held):  # both are accepted and served, then sit idle
            sock.sendall(request_line(n, "ping"))
            assert json.loads(sock.makefile("rb").readline())["ok"] is True
        assert IpcClient(srv.socket_path).request("status")["state"] == "idle"
        assert held[0].recv(1) == b""  # idle longest: closed to make room
        held[1].sendall(request_line(7, "ping"))  # the other one is still served
        assert json.loads(held[1].makefile("rb").readline())["id"] == 7
        assert srv.stats()["evicted"] == 1 and srv.stats()["peak_connections"] == 2
        for sock in held:
            sock.close()


def test_connection_that_sends_nothing_is_closed(sock_dir: Path, controller: FakeController) -> None:
    with IpcServer(sock_dir / "s.sock", controller.dispatch, limits=ServerLimits(line_timeout_s=0.2)) as srv:
        sock = connect(srv.socket_path)
        assert sock.recv(1) == b""  # the server hung up on us
        sock.close()
        wait_until(lambda: srv.stats()["timed_out"] == 1)


def test_connection_idle_after_a_reply_is_closed(sock_dir: Path, controller: FakeController) -> None:
    with IpcServer(sock_dir / "s.sock", controller.dispatch, limits=ServerLimits(idle_timeout_s=0.2)) as srv:
        sock = connect(srv.socket_path)
        sock.sendall(request_line(1, "ping"))
        stream = sock.makefile("rb")
        assert json.loads(stream.readline())["ok"] is True
        assert stream.readline() == b""
        sock.close()


def test_stale_socket_is_replaced(sock_dir: Path, controller: FakeController) -> None:
    path = sock_dir / "s.sock"
    _leave_stale_socket(path)
    with IpcServer(path, controller.dispatch):
        assert _ping_ok(path)


def test_live_socket_is_not_stolen(server: IpcServer, controller: FakeController) -> None:
    with pytest.raises(IpcError, match="already listening") as caught:
        IpcServer(server.socket_path, controller.dispatch).start()
    assert caught.value.code == "in_use"
    assert _ping_ok(server.socket_path)


def test_a_regular_file_is_never_deleted(sock_dir: Path, controller: FakeController) -> None:
    path = sock_dir / "s.sock"
    path.write_text("my notes")
    with pytest.raises(IpcError, match="not a socket"):
        IpcServer(path, controller.dispatch).start()
    assert path.read_text() == "my notes"


def test_too_long_socket_path_is_a_clear_error(sock_dir: Path, controller: FakeController) -> None:
    with pytest.raises(IpcError, match="longer than the 107"):
        IpcServer(sock_dir / ("d" * 120) / "s.sock", controller.dispatch).start()


def test_stop_removes_socket_and_can_repeat(sock_dir: Path, controller: FakeController) -> None:
    srv = IpcServer(sock_dir / "s.sock", controller.dispatch)
    srv.start()
    srv.stop()
    srv.stop()
    assert not srv.socket_path.exists()
    with pytest.raises(IpcError, match="not running"):
        IpcClient(srv.socket_path).request("ping")


def test_stop_lets_a_command_in_flight_answer(server: IpcServer, controller: FakeController) -> None:
    controller.gate.clear()
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(IpcClient(server.socket_path).request, "toggle")
        assert controller.entered.wait(WAIT_S)
        stopping = pool.submit(server.stop)
        controller.gate.set()
        assert slow.result(WAIT_S) == {"state": "recording"}
        stopping.result(WAIT_S)
    assert not server.socket_path.exists()


def test_shutdown_command_may_stop_the_server(sock_dir: Path, controller: FakeController) -> None:
    srv = IpcServer(sock_dir / "s.sock", controller.dispatch)
    controller.on_shutdown = srv.stop
    srv.start()
    assert IpcClient(srv.socket_path).request("shutdown") == {"state": "idle", "cmd": "shutdown"}
    wait_until(lambda: not srv.socket_path.exists())
    srv.stop()


def _leave_stale_socket(path: Path) -> None:
    """What a SIGKILLed daemon leaves: a socket file nobody listens on."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(os.fspath(path))
    sock.close()
    assert stat.S_ISSOCK(os.lstat(path).st_mode)
