"""2,000 random payloads against a running IpcServer: every line gets the predicted, well-formed reply and the
server keeps answering. The longer soak runs the same harness: `python -m tests.ipc.fuzz --count 10000`."""

from __future__ import annotations

import pytest

from onevox.ipc import protocol as proto
from onevox.ipc.server import IpcServer
from tests.ipc.fuzz import FuzzReport, check_payload, expected_replies, run_fuzz

FUZZ_COUNT = 2000


def test_fuzz_2000_payloads(server: IpcServer) -> None:
    report = run_fuzz(server.socket_path, FUZZ_COUNT)
    assert report.payloads >= FUZZ_COUNT
    # the generator really reaches the interesting cases, not only one kind of garbage
    for code in ("ok", proto.BAD_JSON, proto.BAD_REQUEST, proto.UNKNOWN_COMMAND, proto.TOO_LARGE):
        assert report.codes[code] > 0, report.summary()
    assert server.stats()["errors"] > 0 and server.running


def test_oracle_predicts_framing() -> None:
    payload = b'{"v":1,"id":4,"cmd":"ping"}\r\n\n  \nnope\n{"v":1,"id":5,"cmd":"subscribe"}\n{"v":1,"id":6}'
    assert expected_replies(payload) == [(4, "ok"), (None, proto.BAD_JSON), (5, "ok")]
    assert expected_replies(b"x" * (proto.MAX_LINE_BYTES + 1) + b'\n{"v":1,"id":1,"cmd":"ping"}') == [
        (None, proto.TOO_LARGE)]


def test_harness_catches_a_wrong_reply(server: IpcServer) -> None:
    report = FuzzReport()
    check_payload(server.socket_path, b'{"v":1,"id":9,"cmd":"status"}', report)
    assert report.codes == {"ok": 1}
    # the fake controller answers cancel with an error: a harness expecting "ok" must fail
    with pytest.raises(AssertionError, match="expected"):
        check_payload(server.socket_path, b'{"v":1,"id":9,"cmd":"cancel"}', report, want=[(9, "ok")])
    with pytest.raises(AssertionError, match="expected"):
        check_payload(server.socket_path, b'{"v":1,"id":9,"cmd":"ping"}', report, want=[])
