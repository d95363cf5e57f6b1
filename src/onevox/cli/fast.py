"""The slim control path: `onevox toggle | start-dictation | stop-dictation | cancel | status --json`.

A compositor key binding runs these on every key press, so they must cost next to nothing. `serve(argv)`
answers them with only `os`, `sys`, `socket` and `json` imported: no click, no rich, no config validation.
It returns None, having sent nothing, for anything it does not handle exactly like the full CLI (other
commands or flags, --help, a config file it cannot read simply, a daemon it cannot connect to); `main()` then
runs the full click CLI, so the user sees the same output and exit code either way. Once a request is sent
there is no going back (a second `toggle` would undo the first): failures after that point are reported with
the very messages onevox.ipc.client uses, imported only then.
"""

from __future__ import annotations

import os
import sys

from onevox.errors import OnevoxError

TYPE_CHECKING = False  # typing itself costs milliseconds
if TYPE_CHECKING:
    import _socket
    from typing import Any

# command line name -> IPC command; plain `status` (human text) stays with the full CLI
COMMANDS = {
    "toggle": "toggle",
    "start-dictation": "start_dictation",
    "stop-dictation": "stop_dictation",
    "cancel": "cancel",
    "status": "status",
}
TIMEOUT_S = 5.0  # onevox.cli.daemon_cmd.STATUS_TIMEOUT_S
MAX_RESPONSE_BYTES = 16 * 1024 * 1024  # onevox.ipc.client.MAX_RESPONSE_BYTES
REQUEST_ID = 1  # a fresh IpcClient's first id
CONFIG_ENV = "ONEVOX_CONFIG"  # onevox.config.CONFIG_ENV


class Invocation:
    """A command line the slim path serves."""

    def __init__(self, command: str, root_config: str | None, sub_config: str | None, as_json: bool) -> None:
        self.command = command
        self.root_config = root_config
        self.sub_config = sub_config
        self.as_json = as_json


def parse_args(args: list[str]) -> Invocation | None:
    """`[--config PATH] COMMAND [--config PATH] [--json]`, or None for anything else."""
    command: str | None = None
    root_config: str | None = None
    sub_config: str | None = None
    as_json = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--config" or arg.startswith("--config="):
            if arg == "--config":
                if i + 1 >= len(args):
                    return None
                value = args[i + 1]
                i += 2
            else:
                value = arg[len("--config="):]
                i += 1
            if not value or value.startswith("-"):
                return None
            if command is None:
                if root_config is not None:
                    return None
                root_config = value
            else:
                if sub_config is not None:
                    return None
                sub_config = value
            continue
        if command is None and arg in COMMANDS:
            command = arg
        elif command is not None and arg == "--json" and not as_json:
            as_json = True
        else:
            return None
        i += 1
    if command is None or (command == "status" and not as_json):
        return None
    return Invocation(command, root_config, sub_config, as_json)


def _click_path_ok(value: str) -> bool:
    """What click.Path(dir_okay=False) accepts without a usage error."""
    if not os.path.exists(value):
        return True
    return not os.path.isdir(value) and os.access(value, os.R_OK)


def socket_path(inv: Invocation) -> str | None:
    """The daemon's socket as the full CLI finds it (Config.socket_path()), or None to let the full CLI
    decide (a config it would reject outright or that is not simple to read)."""
    root = inv.root_config or os.environ.get(CONFIG_ENV) or None  # click's envvar for the global --config
    for given in (root, inv.sub_config):
        if given is not None and not _click_path_ok(given):
            return None
    explicit = inv.sub_config or root
    if explicit:
        config_file = os.path.expanduser(explicit)
    elif (plain := default_config_file()) is not None:
        config_file = plain
    else:
        from onevox.paths import default_config_path  # platformdirs decides

        config_file = os.fspath(default_config_path())
    socket_setting = ""
    if os.path.exists(config_file):
        socket_value = _socket_setting(config_file)
        if socket_value is None:
            return None
        socket_setting = socket_value
    elif explicit:
        return None  # "file not found": the full CLI says it
    if socket_setting:
        return os.path.expanduser(socket_setting)
    base = os.environ.get("XDG_RUNTIME_DIR")  # onevox.paths.default_socket_path()
    folder = os.path.join(base, "onevox") if base else f"/tmp/onevox-{os.getuid()}"
    return os.path.join(folder, "onevox.sock")


def default_config_file() -> str | None:
    """onevox.paths.default_config_path() as platformdirs finds it on Linux, without importing pathlib and
    platformdirs (slow imports on a path a key binding waits for): $XDG_CONFIG_HOME when it is absolute,
    else $HOME/.config. None where platformdirs has more to weigh (no absolute HOME)."""
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    if xdg.startswith("/"):
        return os.path.join(xdg, "onevox", "config.toml")
    home = os.environ.get("HOME", "")
    if home.startswith("/"):
        return os.path.join(home, ".config", "onevox", "config.toml")
    return None


def _socket_setting(config_file: str) -> str | None:
    """[daemon] socket of a readable TOML file ('' when unset), or None when it cannot be read simply."""
    try:
        with open(config_file, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    # importing tomllib costs about as much as the rest of this path together: a plain file is scanned
    simple = simple_socket_setting(raw)
    if simple is not None:
        return simple
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
    daemon = data.get("daemon", {})
    if not isinstance(daemon, dict):
        return None
    value = daemon.get("socket", "")
    return value if isinstance(value, str) else None


def simple_socket_setting(raw: bytes) -> str | None:
    """The socket of a file in the plain shape `onevox config init` writes (`socket = "..."` on its own
    line under a `[daemon]` header; "" when no such line), or None for anything else, which tomllib then
    reads. Only lines are looked at, so whatever could make a line mean something else (multi-line strings,
    escapes, inline or dotted `daemon` tables, a header twice) sends the file to tomllib."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if '"""' in text or "'''" in text or "\\" in text:
        return None
    table = ""
    tables: set[str] = set()
    found: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            header, bracket, rest = stripped.partition("]")
            rest = rest.strip()
            if not bracket:
                return None
            table = header[1:].strip()
            if stripped.startswith("[[") or (rest and not rest.startswith("#")) or table in tables:
                return None
            tables.add(table)
            continue
        key = stripped.partition("=")[0].strip()
        if key != "socket":
            if "socket" in key or key.startswith("daemon"):
                return None  # a quoted or dotted socket key, `daemon = {...}`: tomllib decides
            continue
        if table != "daemon" or found is not None:
            return None
        value = stripped.partition("=")[2].strip()
        quote = value[:1]
        end = value.find(quote, 1) if quote in ('"', "'") else -1
        if end < 0:
            return None
        tail = value[end + 1:].strip()
        if tail and not tail.startswith("#"):
            return None
        found = value[1:end]
    return found or ""


def serve(args: list[str]) -> int | None:
    """Serve a control command; its exit code, or None (nothing sent) to run the full CLI instead."""
    inv = parse_args(args)
    if inv is None:
        return None
    path = socket_path(inv)
    if path is None:
        return None
    import _socket  # the socket module's enum and selectors cost milliseconds

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(TIMEOUT_S)
        try:
            sock.connect(path)
        except (OSError, ValueError):
            return None  # not running, too long a path, ...: the full CLI explains it
        cmd = COMMANDS[inv.command]
        try:
            result = _request(sock, cmd)
        except OnevoxError as exc:
            echo(f"onevox: {exc}", err=True)
            return exc.exit_code
    finally:
        sock.close()
    if cmd == "status":
        result = {"running": True, **result}
    if inv.as_json:
        echo(dump_json(result))
    else:
        echo(summarise(result))
    return 0


def _request(sock: _socket.socket, cmd: str) -> dict[str, Any]:
    """IpcClient.request(cmd) on a connected socket: the same bytes sent, the same errors raised."""
    try:
        sock.sendall(request_bytes(cmd))
    except OSError as exc:
        import socket

        from onevox.ipc import client

        stream = socket.socket(fileno=sock.detach()).makefile("rb")
        refusal = client.refusal_after_send(stream)
        raise (refusal or client.send_error(cmd, exc)) from exc
    try:
        line = _readline(sock)
    except OSError as exc:
        from onevox.ipc import client

        raise client.read_error(cmd, exc, TIMEOUT_S) from exc
    if not line.endswith(b"\n"):
        from onevox.ipc import client

        raise client.no_answer_error(cmd)
    try:
        message = parse_json(line.decode("utf-8"))
    except ValueError:
        message = None
    if (isinstance(message, dict) and message.get("v") == 1 and message.get("id") == REQUEST_ID
            and message.get("ok") is True and isinstance(message.get("result"), dict)):
        result: dict[str, Any] = message["result"]
        return result
    from onevox.ipc import protocol as proto  # anything unusual: the client's own decoding and errors

    return proto.result_of(proto.decode_message(line), REQUEST_ID)


_JSON_SPACE = " \t\n\r"


class _JsonContext:
    """What the C scanner reads off a JSONDecoder: json.loads's defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__


def parse_json(text: str) -> Any:
    """json.loads(text), raising ValueError on anything it rejects, through the C scanner json.decoder
    itself uses: importing json pulls in re, enum and functools, a large share of this path's start-up."""
    try:
        from _json import make_scanner  # CPython's accelerator module
    except ImportError:
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(_JSON_SPACE))
    context: Any = _JsonContext()  # typeshed wants a make_scanner; any object with these attributes will do
    try:
        value, end = make_scanner(context)(text, start)
    except StopIteration as exc:
        raise ValueError(f"no JSON value at {exc.value}") from None
    if text[end:].strip(_JSON_SPACE):
        raise ValueError(f"extra data at {end}")
    return value


def dump_json(value: Any) -> str:
    """json.dumps(value, ensure_ascii=False, sort_keys=True) for a decoded JSON value, through the C encoder
    json.encoder itself uses (see parse_json)."""
    try:
        from _json import encode_basestring, make_encoder
    except ImportError:
        import json

        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    # no circular-reference markers: a value parse_json returned has none
    encoder = make_encoder(None, _not_json, encode_basestring, None, ": ", ", ", True, False, True)
    return "".join(encoder(value, 0))


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")  # json's default()


def _readline(sock: _socket.socket) -> bytes:
    """stream.readline(MAX_RESPONSE_BYTES) on the socket's file."""
    data = b""
    while b"\n" not in data and len(data) < MAX_RESPONSE_BYTES:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    end = data.find(b"\n")
    return data[: end + 1 if end >= 0 else MAX_RESPONSE_BYTES]


def request_bytes(cmd: str) -> bytes:
    """onevox.ipc.protocol.encode_request(REQUEST_ID, cmd) for the plain command names above."""
    return f'{{"v":1,"id":{REQUEST_ID},"cmd":"{cmd}"}}\n'.encode()


def summarise(result: dict[str, Any]) -> str:
    """onevox.cli.daemon_cmd._summarise."""
    parts = [str(result[key]) for key in ("state", "message") if result.get(key)]
    return " - ".join(parts) if parts else "ok"


def echo(text: str, err: bool = False) -> None:
    """click.echo(text, err=err) for a str: ANSI escapes dropped unless the stream is a terminal."""
    stream = sys.stderr if err else sys.stdout
    if "\x1b" in text and not _isatty(stream):
        import re

        text = re.sub(r"\033\[[;?0-9]*[a-zA-Z]", "", text)  # click._compat._ansi_re
    stream.write(text + "\n")
    stream.flush()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except Exception:
        return False
