"""The wire format as pure functions: every malformed request maps to one specific error code."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onevox.errors import IpcError
from onevox.ipc import protocol as proto


def test_valid_request_parses_with_args() -> None:
    request = proto.parse_request(b'{"v":1,"id":7,"cmd":"status","verbose":true}')
    assert request == proto.Request(id=7, cmd="status", args={"verbose": True})


@pytest.mark.parametrize(("line", "code", "echo_id"), [
    (b"not json", proto.BAD_JSON, None),
    (b'{"v":1,"id":1,"cmd":"status"', proto.BAD_JSON, None),
    (b"\xff\xfe\x00garbage", proto.BAD_JSON, None),
    (b"[1,2,3]", proto.BAD_REQUEST, None),
    (b'"status"', proto.BAD_REQUEST, None),
    (b"null", proto.BAD_REQUEST, None),
    (b'{"id":1,"cmd":"status"}', proto.BAD_REQUEST, 1),
    (b'{"v":"1","id":1,"cmd":"status"}', proto.BAD_REQUEST, 1),
    (b'{"v":true,"id":1,"cmd":"status"}', proto.BAD_REQUEST, 1),
    (b'{"v":2,"id":1,"cmd":"status"}', proto.UNSUPPORTED_VERSION, 1),
    (b'{"v":1,"cmd":"status"}', proto.BAD_REQUEST, None),
    (b'{"v":1,"id":"1","cmd":"status"}', proto.BAD_REQUEST, None),
    (b'{"v":1,"id":1.5,"cmd":"status"}', proto.BAD_REQUEST, None),
    (b'{"v":1,"id":false,"cmd":"status"}', proto.BAD_REQUEST, None),
    (b'{"v":1,"id":1}', proto.BAD_REQUEST, 1),
    (b'{"v":1,"id":1,"cmd":5}', proto.BAD_REQUEST, 1),
    (b'{"v":1,"id":1,"cmd":"format_disk"}', proto.UNKNOWN_COMMAND, 1),
    (b'{"v":1,"id":1,"cmd":"STATUS"}', proto.UNKNOWN_COMMAND, 1),
    (b"[" * 60_000, proto.BAD_JSON, None),
    (b'{"v":1,"id":1,"cmd":"status","n":' + b"9" * 5000 + b"}", proto.BAD_JSON, None),
])
def test_malformed_requests_get_specific_codes(line: bytes, code: str, echo_id: int | None) -> None:
    with pytest.raises(proto.ProtocolError) as caught:
        proto.parse_request(line)
    assert caught.value.code == code
    assert caught.value.request_id == echo_id
    assert caught.value.message


def test_line_over_limit_is_too_large() -> None:
    padded = b'{"v":1,"id":1,"cmd":"ping"}'.ljust(proto.MAX_LINE_BYTES + 1)
    with pytest.raises(proto.ProtocolError) as caught:
        proto.parse_request(padded)
    assert caught.value.code == proto.TOO_LARGE


def test_line_at_limit_is_accepted() -> None:
    padded = b'{"v":1,"id":1,"cmd":"ping"}'.ljust(proto.MAX_LINE_BYTES)
    assert proto.parse_request(padded).cmd == "ping"


def test_unknown_command_message_lists_known_commands() -> None:
    with pytest.raises(proto.ProtocolError) as caught:
        proto.parse_request(b'{"v":1,"id":3,"cmd":"nope"}')
    assert "toggle" in caught.value.message and "'nope'" in caught.value.message


def test_every_documented_command_is_known() -> None:
    for cmd in ("ping", "status", "toggle", "start_dictation", "stop_dictation", "cancel", "subscribe",
                "shutdown"):
        assert proto.parse_request(proto.encode_request(1, cmd)).cmd == cmd


def test_encodings_are_single_json_lines() -> None:
    result = proto.encode_result(4, {"text": "héllo\nworld", "path": Path("/tmp/x")})
    error = proto.encode_error(None, proto.BAD_JSON, "bad")
    event = proto.encode_event("transcribed", {"text": "hi", "event": "ignored", "v": 9})
    for line in (result, error, event):
        assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(result) == {"v": 1, "id": 4, "ok": True,
                                  "result": {"text": "héllo\nworld", "path": "/tmp/x"}}
    assert json.loads(error) == {"v": 1, "id": None, "ok": False,
                                 "error": {"code": "bad_json", "message": "bad"}}
    assert json.loads(event) == {"v": 1, "event": "transcribed", "text": "hi"}


def test_non_finite_numbers_become_null() -> None:
    line = proto.encode_result(1, {"latencies": {"asr": {"p50": math.nan, "p95": math.inf, "count": 0}}})
    assert json.loads(line)["result"]["latencies"]["asr"] == {"p50": None, "p95": None, "count": 0}


def test_unserialisable_result_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        proto.encode_result(1, {"thing": object()})


def test_reserved_argument_names_are_refused() -> None:
    with pytest.raises(ValueError, match="reserved"):
        proto.encode_request(1, "status", v=2)


def test_result_of_returns_result_and_raises_errors() -> None:
    ok = proto.decode_message(proto.encode_result(5, {"state": "idle"}))
    assert proto.result_of(ok, 5) == {"state": "idle"}
    failed = proto.decode_message(proto.encode_error(5, "failed", "no microphone"))
    with pytest.raises(IpcError, match="no microphone") as caught:
        proto.result_of(failed, 5)
    assert caught.value.code == "failed"
    with pytest.raises(IpcError, match="out of turn"):
        proto.result_of(ok, 6)


@pytest.mark.parametrize("line", [b"\xff\n", b"[1]\n", b'{"v":2}\n', b"nope\n"])
def test_decode_message_rejects_foreign_lines(line: bytes) -> None:
    with pytest.raises(IpcError) as caught:
        proto.decode_message(line)
    assert caught.value.code == "bad_response"


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_ever_raise_protocol_errors(data: bytes) -> None:
    try:
        request = proto.parse_request(data)
    except proto.ProtocolError as exc:
        assert exc.code in {proto.BAD_JSON, proto.BAD_REQUEST, proto.UNSUPPORTED_VERSION,
                            proto.UNKNOWN_COMMAND}
    else:
        assert request.cmd in proto.COMMANDS


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=10), _json_values, max_size=6))
def test_arbitrary_objects_only_ever_raise_protocol_errors(obj: dict) -> None:
    try:
        request = proto.parse_request(json.dumps(obj).encode())
    except proto.ProtocolError as exc:
        assert exc.code in {proto.BAD_REQUEST, proto.UNSUPPORTED_VERSION, proto.UNKNOWN_COMMAND}
    else:
        assert request.cmd in proto.COMMANDS and obj["v"] == 1


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-(2**63), max_value=2**63), st.sampled_from(sorted(proto.COMMANDS)),
       st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k not in ("v", "id", "cmd")),
                       _json_values, max_size=4))
def test_request_round_trip(request_id: int, cmd: str, args: dict) -> None:
    line = proto.encode_request(request_id, cmd, **args)
    assert proto.parse_request(line) == proto.Request(request_id, cmd, args)
