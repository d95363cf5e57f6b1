"""A real HTTP server on 127.0.0.1 laid out like Hugging Face's `<repo>/resolve/<revision>/<file>`, with
Range support and faults a test can switch on, plus a generator of small model folders that pass
check_model_dir (a CTranslate2 header naming WhisperSpec, random weights, config and vocabulary)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from onevox.models.catalog import FileSpec, ModelSpec

FIXTURE_REPO = "onevox-tests/fixture-whisper"
FIXTURE_REVISION = "0123456789abcdef0123456789abcdef01234567"
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def model_bin_bytes(payload_size: int, seed: int = 1, spec_name: str = "WhisperSpec") -> bytes:
    """A model.bin whose header is CTranslate2's (format 6, the spec name, revision 3) over random bytes."""
    name = spec_name.encode() + b"\0"
    header = struct.pack("<IH", 6, len(name)) + name + struct.pack("<I", 3)
    return header + _pseudo_random(payload_size, seed)


def _pseudo_random(size: int, seed: int) -> bytes:
    out = bytearray()
    block = hashlib.sha256(f"seed-{seed}".encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def fixture_files(payload_size: int = 300_000, vocab_size: int = 51864, n_mels: int | None = None,
                  seed: int = 1) -> dict[str, bytes]:
    """The files of a small fake Whisper model folder."""
    config = {"alignment_heads": [[1, 0]], "lang_ids": [50259], "suppress_ids": [1, 2],
              "suppress_ids_begin": [220, 50256]}
    files = {
        "config.json": json.dumps(config).encode(),
        "model.bin": model_bin_bytes(payload_size, seed),
        "tokenizer.json": b'{"version": "1.0", "model": {"type": "BPE"}}',
        "vocabulary.txt": "".join(f"tok{i}\n" for i in range(vocab_size)).encode(),
    }
    if n_mels is not None:
        files["preprocessor_config.json"] = json.dumps({"feature_size": n_mels}).encode()
    return files


def write_folder(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def spec_for(name: str, files: dict[str, bytes], *, pin_sha: bool = True,
             repo: str = FIXTURE_REPO, revision: str = FIXTURE_REVISION) -> ModelSpec:
    """A catalog entry for `files`, pinned like the real ones (sizes always, sha256 when pin_sha)."""
    specs = tuple(FileSpec(n, len(data), hashlib.sha256(data).hexdigest() if pin_sha else None)
                  for n, data in files.items())
    return ModelSpec(name=name, repo=repo, revision=revision, description="test fixture",
                     english_only=True, files=specs)


@dataclass
class Fault:
    """What the server does to the next request for one path (faults are used up in order)."""

    status: int | None = None  # answer with this error status instead of the file
    cut_after: int | None = None  # send this many body bytes, then close the connection
    stall_after: int | None = None  # send this many body bytes, then wait until `release` is set
    body: bytes | None = None  # send these bytes instead of the file's (same headers otherwise)
    length: int | None = None  # advertise this Content-Length instead of the true one
    reached: threading.Event = field(default_factory=threading.Event)  # set when the fault point is hit
    release: threading.Event = field(default_factory=threading.Event)


class ModelServer:
    """Serves `files` (url path -> bytes). `redirect[path] = sha256` answers with a 302 to a /cdn/ path
    carrying X-Linked-ETag and X-Linked-Size, as Hugging Face does for large files."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.redirect: dict[str, str] = {}
        self.faults: dict[str, list[Fault]] = {}
        self.ignore_range = False
        self.requests: list[str] = []  # path of every request, redirects included
        self.served: list[tuple[str, str | None]] = []  # (file path, Range header) of each file answer
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def publish(self, spec: ModelSpec, files: dict[str, bytes], *, redirect_model: bool = True) -> None:
        for name, data in files.items():
            path = f"/{spec.repo}/resolve/{spec.revision}/{name}"
            self.files[path] = data
            if redirect_model and name == "model.bin":
                self.redirect[path] = hashlib.sha256(data).hexdigest()

    def path_of(self, spec: ModelSpec, name: str) -> str:
        return f"/{spec.repo}/resolve/{spec.revision}/{name}"

    def add_fault(self, path: str, fault: Fault) -> Fault:
        self.faults.setdefault(path, []).append(fault)
        return fault

    def ranges_for(self, path: str) -> list[str | None]:
        return [rng for p, rng in self.served if p == path]

    def start(self) -> ModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        for faults in self.faults.values():
            for fault in faults:
                fault.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            queue = self.faults.get(path) or []
            return queue.pop(0) if queue else None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(self.path)
                if self.path in server.redirect:
                    self._redirect()
                    return
                source = self.path.removeprefix("/cdn")
                server.served.append((source, self.headers.get("Range")))
                fault = server._next_fault(source)
                if fault is not None and fault.status is not None:
                    self.send_error(fault.status)
                    return
                data = server.files.get(source)
                if data is None:
                    self.send_error(404)
                    return
                if fault is not None and fault.body is not None:
                    data = fault.body
                self._send(data, fault)

            def _redirect(self) -> None:
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(302)
                self.send_header("Location", "/cdn" + self.path)
                self.send_header("X-Linked-ETag", f'"{server.redirect[self.path]}"')
                self.send_header("X-Linked-Size", str(len(data)))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _send(self, data: bytes, fault: Fault | None) -> None:
                start, status = 0, 200
                match = _RANGE.match(self.headers.get("Range") or "")
                if match and not server.ignore_range:
                    start = int(match.group(1))
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    status = 206
                body = data[start:]
                self.send_response(status)
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                length = fault.length if fault is not None and fault.length is not None else len(body)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self._write_body(body, fault)

            def _write_body(self, body: bytes, fault: Fault | None) -> None:
                stop = None
                if fault is not None:
                    stop = fault.cut_after if fault.cut_after is not None else fault.stall_after
                if stop is None:
                    self.wfile.write(body)
                    return
                self.wfile.write(body[:stop])
                self.wfile.flush()
                fault.reached.set()
                if fault.stall_after is not None:
                    fault.release.wait(30)
                    with contextlib.suppress(OSError):  # the client may have given up (timeout test)
                        self.wfile.write(body[stop:])
                else:
                    self.close_connection = True

        return Handler
