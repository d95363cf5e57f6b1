"""The daemon's wire protocol: newline-delimited JSON over a Unix stream socket.

A request is one line `{"v":1,"id":N,"cmd":"status",...args}`; the answer is one line
`{"v":1,"id":N,"ok":true,"result":{...}}` or `{"v":1,"id":N,"ok":false,"error":{"code":..,"message":..}}`.
After `subscribe` the connection carries events, one line each: `{"v":1,"event":KIND,...fields}`.

Everything here is a pure function of bytes and dicts, so the server, the client and the tests share it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from onevox.errors import IpcError

VERSION = 1
# a request line longer than this (without its newline) is answered with `too_large` and the connection closed
MAX_LINE_BYTES = 64 * 1024



class Command(StrEnum):
    """Every command a request may name: the one table the server, the daemon and the client share."""

    PING = "ping"  # answered by the server itself
    STATUS = "status"
    TOGGLE = "toggle"
    START_DICTATION = "start_dictation"
    STOP_DICTATION = "stop_dictation"
    CANCEL = "cancel"
    SUBSCRIBE = "subscribe"  # turns the connection into an event stream (the server's job)
    SHUTDOWN = "shutdown"
    RELOAD = "reload"
    CORRECT = "correct"  # {"entry": history id, "text": what it should have been}: learn from it


COMMANDS = frozenset(Command)
# answered by the IPC server without the daemon's command table
SERVER_COMMANDS = frozenset({Command.PING, Command.SUBSCRIBE})
# what the daemon's command table must answer: everything else
DAEMON_COMMANDS = COMMANDS - SERVER_COMMANDS

# error codes a response may carry
BAD_JSON = "bad_json"
BAD_REQUEST = "bad_request"
UNSUPPORTED_VERSION = "unsupported_version"
UNKNOWN_COMMAND = "unknown_command"
TOO_LARGE = "too_large"
INTERNAL = "internal"
FORBIDDEN = "forbidden"  # the peer is another user
BUSY = "busy"  # too many connections at once
FAILED = "failed"  # the command ran and reported an expected failure (an OnevoxError)
SHUTTING_DOWN = "shutting_down"
UNAVAILABLE = "unavailable"  # the daemon cannot do that now (no usable model, no config file to reload)

_ENVELOPE_KEYS = ("v", "id", "cmd")


@dataclass(frozen=True)
class Request:
    id: int  # chosen by the client, echoed in the response
    cmd: Command
    args: dict[str, Any] = field(default_factory=dict)  # every other key of the request object


class ProtocolError(Exception):
    """A request that cannot be served; becomes an error response (it never reaches the user as is)."""

    def __init__(self, code: str, message: str, request_id: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


def parse_request(line: bytes | str) -> Request:
    """Validate one request line (without its newline); raises ProtocolError naming what is wrong."""
    if isinstance(line, bytes) and len(line) > MAX_LINE_BYTES:
        raise ProtocolError(TOO_LARGE, f"request is {len(line)} bytes; the limit is {MAX_LINE_BYTES}")
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
    except UnicodeDecodeError as exc:
        raise ProtocolError(BAD_JSON, f"request is not UTF-8 (bad byte at {exc.start})") from exc
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:  # ValueError also covers huge integers
        raise ProtocolError(BAD_JSON, f"request is not valid JSON: {_short(exc)}") from exc
    if not isinstance(obj, dict):
        raise ProtocolError(BAD_REQUEST, f"request must be a JSON object, got {_json_type(obj)}")
    return _validate(obj)


def _validate(obj: dict[str, Any]) -> Request:
    request_id = obj.get("id")
    echo_id = request_id if _is_int(request_id) else None
    version = obj.get("v")
    if not _is_int(version):
        raise ProtocolError(BAD_REQUEST, "request needs \"v\": 1 (an integer protocol version)", echo_id)
    if version != VERSION:
        message = f"protocol version {version} is not supported; this daemon speaks {VERSION}"
        raise ProtocolError(UNSUPPORTED_VERSION, message, echo_id)
    if echo_id is None:
        raise ProtocolError(BAD_REQUEST, "request needs an integer \"id\"")
    cmd = obj.get("cmd")
    if not isinstance(cmd, str):
        raise ProtocolError(BAD_REQUEST, "request needs a string \"cmd\"", echo_id)
    if cmd not in COMMANDS:
        raise ProtocolError(UNKNOWN_COMMAND,
                            f"unknown command {_short(cmd)!r}; known: {', '.join(sorted(COMMANDS))}", echo_id)
    args = {k: v for k, v in obj.items() if k not in _ENVELOPE_KEYS}
    return Request(id=echo_id, cmd=Command(cmd), args=args)


def encode_request(request_id: int, cmd: str, **args: Any) -> bytes:
    reserved = set(args) & set(_ENVELOPE_KEYS)
    if reserved:
        raise ValueError(f"argument names {sorted(reserved)} are reserved by the protocol")
    return _dump({"v": VERSION, "id": request_id, "cmd": cmd, **args})


def encode_result(request_id: int, result: dict[str, Any]) -> bytes:
    return _dump({"v": VERSION, "id": request_id, "ok": True, "result": result})


def encode_error(request_id: int | None, code: str, message: str) -> bytes:
    return _dump({"v": VERSION, "id": request_id, "ok": False, "error": {"code": code, "message": message}})


def encode_event(kind: str, fields: dict[str, Any]) -> bytes:
    body = {k: v for k, v in fields.items() if k not in ("v", "event")}
    return _dump({"v": VERSION, "event": kind, **body})


def decode_message(line: bytes) -> dict[str, Any]:
    """A line the daemon sent (response or event); IpcError when it is not one."""
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IpcError(f"the daemon sent a malformed line: {_short(exc)}", code="bad_response") from exc
    if not isinstance(obj, dict) or obj.get("v") != VERSION:
        raise IpcError(f"the daemon sent an unexpected message: {_short(obj)}", code="bad_response")
    return obj


def result_of(response: dict[str, Any], request_id: int) -> dict[str, Any]:
    """The result of a successful response, or IpcError carrying the daemon's error code and message."""
    if response.get("ok") is False:
        raw = response.get("error")
        error: dict[str, Any] = raw if isinstance(raw, dict) else {}
        raise IpcError(str(error.get("message", "the daemon reported an error")),
                       code=str(error.get("code", INTERNAL)))
    if response.get("id") != request_id or response.get("ok") is not True:
        raise IpcError(f"the daemon answered out of turn: {_short(response)}", code="bad_response")
    result = response.get("result")
    return result if isinstance(result, dict) else {"value": result}


def _dump(obj: dict[str, Any]) -> bytes:
    try:
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default)
    except ValueError:  # NaN or infinity somewhere (an empty latency series): JSON has no such numbers
        text = json.dumps(_finite(obj), separators=(",", ":"), ensure_ascii=False, default=_default)
    return text.encode("utf-8") + b"\n"


def _default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} cannot be sent as JSON")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def _short(value: Any, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."
