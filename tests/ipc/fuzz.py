"""Fuzzing a running IPC server with random payloads: a reusable harness.

The unit suite sends 2,000 payloads (tests/ipc/test_fuzz.py); the soak sends more:
    python -m tests.ipc.fuzz --count 10000 [--socket PATH] [--seed N]
Without --socket it starts its own IpcServer (FakeController + EventBus) on a temporary socket. With --socket
it fuzzes a running daemon: point it at a test daemon only (the payloads include real commands).

Each payload is sent on a fresh connection and the sending side closed; every reply must be a well-formed
protocol line, and each request line must get exactly the reply `protocol.parse_request` predicts for it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from onevox.ipc import protocol as proto
from onevox.ipc.client import IpcClient
from tests.ipc.doubles import exchange

ERROR_CODES = {proto.BAD_JSON, proto.BAD_REQUEST, proto.UNSUPPORTED_VERSION, proto.UNKNOWN_COMMAND,
               proto.TOO_LARGE, proto.FAILED, proto.SHUTTING_DOWN, proto.BUSY, proto.UNAVAILABLE}
PING_EVERY = 50  # payloads between liveness checks on a separate connection


@dataclass
class FuzzReport:
    payloads: int = 0  # payloads sent
    replies: int = 0  # response lines received
    codes: Counter[str] = field(default_factory=Counter)  # "ok" or the error code, per reply

    def summary(self) -> dict[str, Any]:
        return {"payloads": self.payloads, "replies": self.replies, "codes": dict(self.codes)}


_json_scalars = (st.none() | st.booleans() | st.integers() | st.text(max_size=16)
                 | st.floats(allow_nan=False, allow_infinity=False))
_json_values = st.recursive(_json_scalars, lambda kids: st.lists(kids, max_size=4)
                            | st.dictionaries(st.text(max_size=6), kids, max_size=4), max_leaves=10)
_commands = st.sampled_from(sorted(proto.COMMANDS)) | st.text(max_size=12)


def _request_objects() -> st.SearchStrategy[bytes]:
    envelope = st.fixed_dictionaries({}, optional={
        "v": st.just(1) | _json_values, "id": st.integers(-(2**40), 2**40) | _json_values,
        "cmd": _commands | _json_values})
    extra = st.dictionaries(st.text(max_size=8), _json_values, max_size=3)
    return st.builds(lambda e, x: json.dumps({**x, **e}).encode(), envelope, extra)


def _mutated_requests() -> st.SearchStrategy[bytes]:
    def mutate(cmd: str, position: int, byte: int) -> bytes:
        line = bytearray(json.dumps({"v": 1, "id": 1, "cmd": cmd}).encode())
        line[position % len(line)] = byte
        return bytes(line)

    return st.builds(mutate, _commands, st.integers(0, 200), st.integers(0, 255))


def payloads() -> st.SearchStrategy[bytes]:
    """Random bytes, random text, JSON objects that are almost requests, corrupted requests, several lines
    at once, and the odd line over the 64 KiB limit."""
    single = (st.binary(max_size=512) | st.text(max_size=200).map(str.encode) | _request_objects()
              | _mutated_requests())
    several = st.lists(single, min_size=2, max_size=6).map(b"\n".join)
    oversized = st.integers(proto.MAX_LINE_BYTES + 1, proto.MAX_LINE_BYTES + 4096).map(lambda n: b"x" * n)
    return single | several | oversized


def fake_controller_answer(request: proto.Request) -> str:
    """What the IPC suite's FakeController answers a valid request: its `cancel` fails, the rest are ok."""
    return proto.FAILED if request.cmd == "cancel" else "ok"


def expected_replies(payload: bytes, answer: Callable[[proto.Request], str] = fake_controller_answer,
                     ) -> list[tuple[int | None, str]]:
    """(id, "ok" or error code) for each reply the server must send for `payload` + newline; `answer` says
    what the controller answers a valid request."""
    expected: list[tuple[int | None, str]] = []
    for raw in payload.split(b"\n"):
        if not raw.strip():
            continue
        if len(raw) > proto.MAX_LINE_BYTES:
            expected.append((None, proto.TOO_LARGE))
            break  # the server answers, then closes
        try:
            request = proto.parse_request(raw.rstrip(b"\r"))
        except proto.ProtocolError as exc:
            expected.append((exc.request_id, exc.code))
            continue
        expected.append((request.id, answer(request)))
        if request.cmd == "subscribe":
            break  # the connection is an event stream from here on
    return expected


def check_payload(socket_path: Path, payload: bytes, report: FuzzReport,
                  want: list[tuple[int | None, str]] | None = None) -> None:
    """Send one payload; raise AssertionError unless every reply is well-formed and as predicted (by
    `expected_replies`, or `want` when given)."""
    replies = [_parse_reply(line) for line in exchange(socket_path, payload + b"\n")]
    answers = [r for r in replies if "event" not in r]
    got = [(r["id"], "ok" if r["ok"] else r["error"]["code"]) for r in answers]
    report.payloads += 1
    report.replies += len(replies)
    report.codes.update(code for _, code in got)
    want = expected_replies(payload) if want is None else want
    if got != want:
        raise AssertionError(f"payload {payload[:120]!r}...: expected {want}, got {got}")


def _parse_reply(line: bytes) -> dict[str, Any]:
    reply = json.loads(line)
    assert isinstance(reply, dict) and reply.get("v") == proto.VERSION, reply
    if "event" in reply:
        return reply
    assert isinstance(reply.get("ok"), bool), reply
    assert reply["id"] is None or isinstance(reply["id"], int), reply
    if reply["ok"]:
        assert isinstance(reply["result"], dict), reply
    else:
        error = reply["error"]
        assert error["code"] in ERROR_CODES and isinstance(error["message"], str) and error["message"], reply
    return reply


def run_fuzz(socket_path: Path, count: int, *, seed: int | None = None) -> FuzzReport:
    """Send `count` generated payloads to the server at `socket_path`; AssertionError on the first bad one."""
    report = FuzzReport()

    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(payloads())
    def fuzz_one(payload: bytes) -> None:
        check_payload(socket_path, payload, report)
        if report.payloads % PING_EVERY == 0:
            assert IpcClient(socket_path).request("ping")["pong"] is True

    if seed is not None:
        fuzz_one = hypothesis_seed(seed)(fuzz_one)
    fuzz_one()
    assert IpcClient(socket_path).request("ping")["pong"] is True
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--socket", type=Path, default=None, help="fuzz this running server")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if args.socket is not None:
        report = run_fuzz(args.socket, args.count, seed=args.seed)
    else:
        report = _fuzz_own_server(args.count, args.seed)
    print(json.dumps(report.summary(), sort_keys=True))
    return 0


def _fuzz_own_server(count: int, seed: int | None) -> FuzzReport:
    from onevox.daemon.events import EventBus
    from onevox.ipc.server import IpcServer
    from tests.ipc.doubles import FakeController, short_tmp_dir

    bus = EventBus()
    with short_tmp_dir() as folder, IpcServer(folder / "fuzz.sock", FakeController().dispatch,
                                              bus.subscribe) as server:
        return run_fuzz(server.socket_path, count, seed=seed)


if __name__ == "__main__":
    sys.exit(main())
