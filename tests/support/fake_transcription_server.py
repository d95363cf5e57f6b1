"""A test double of an OpenAI-compatible transcription server: a real HTTP server (http.server) on a free
loopback port, in a thread, that answers each POST as the test scripts it (text, an HTTP error, garbage, a
hang) and keeps what it was sent. The real third-party server is tested in tests/asr/test_remote_server.py."""

from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import soundfile


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    form: dict[str, str]  # the multipart fields but the file
    audio_samples: int  # samples in the WAV file that was sent
    sample_rate: int


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"text": " Hello there."}'
    delay_s: float = 0.0  # wait this long before answering (a hung server: longer than the client's timeout)


@dataclass
class FakeServer:
    replies: list[Reply] = field(default_factory=list)  # answered in order; the last one repeats
    received: list[Received] = field(default_factory=list)
    _http: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._http is not None
        return f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    def __enter__(self) -> FakeServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                server.received.append(_parse(self.path, dict(self.headers), raw))
                reply = server.replies[min(len(server.received) - 1, len(server.replies) - 1)]
                time.sleep(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._http is not None
        self._http.shutdown()
        self._http.server_close()


def _parse(path: str, headers: dict[str, str], raw: bytes) -> Received:
    head = f"Content-Type: {headers.get('Content-Type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + raw)
    form: dict[str, str] = {}
    samples, rate = 0, 0
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if part.get_filename():
            data, rate = soundfile.read(io.BytesIO(payload), dtype="float32")
            samples = len(data)
        else:
            form[str(name)] = payload.decode()
    return Received(path, {k.lower(): v for k, v in headers.items()}, form, samples, rate)


def text_reply(text: str) -> Reply:
    return Reply(body=json.dumps({"text": text}).encode())
