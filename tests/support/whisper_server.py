"""A real third-party OpenAI-compatible server for the remote engine's tests: `faster-whisper-server` from
PyPI (FastAPI + faster-whisper), installed by `scripts/setup.sh --test` (the `test` extra), serving the
bundled tiny.en folder on a free loopback port as a child process.

    with WhisperServer(tmp_path) as server:
        server.url            # http://127.0.0.1:PORT/v1
        server.pause()        # SIGSTOP: the port still accepts connections, nothing answers (a hung host)
        server.kill()         # SIGKILL: connections are refused
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import numpy as np
import pytest

from onevox.asr.openai_api import wav_bytes
from onevox.audio import SAMPLE_RATE
from tests.support.requirements import INSTALL_HINT

READY_TIMEOUT_S = 60.0


def tiny_en_path() -> Path:
    """The bundled tiny.en folder, as onevox's model registry finds it."""
    from onevox.models.registry import resolve_model

    return resolve_model("tiny.en").path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WhisperServer:
    def __init__(self, root: Path, model: Path | None = None) -> None:
        self.root = Path(root)
        self.model = model or tiny_en_path()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = self.root / "faster-whisper-server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> WhisperServer:
        if importlib.util.find_spec("faster_whisper_server") is None:
            pytest.fail(f"faster-whisper-server is not installed; {INSTALL_HINT}")
        self.root.mkdir(parents=True, exist_ok=True)
        # greedy int8 decoding as onevox's own defaults (the server's are beam search 5), on two threads: the
        # test machine's cores are shared with the daemon
        config = self.root / "fws.yaml"
        config.write_text(json.dumps({"models": [{
            "name": "whisper-1", "path": str(self.model),
            "model_options": {"device": "cpu", "compute_type": "int8", "cpu_threads": 2},
            "transcribe_options": {"beam_size": 1}}]}))  # JSON is YAML
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "faster_whisper_server", "--config", str(config),
                 "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "info"],
                stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self._healthy():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"faster-whisper-server did not start; its log:\n{self.log()[-3000:]}")
            time.sleep(0.1)
        self._warm_up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def pause(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)  # also ends a stopped process
            self.proc.wait(timeout=10)

    def _warm_up(self) -> None:
        """The server loads its model on the first request: do that now, not in a test's timed decode."""
        wav = wav_bytes(np.zeros(SAMPLE_RATE, dtype=np.float32))
        response = httpx2.post(f"{self.url}/audio/transcriptions", data={"model": "whisper-1"},
                               files={"file": ("silence.wav", wav, "audio/wav")}, timeout=READY_TIMEOUT_S)
        assert response.status_code == 200, f"warm-up failed: {response.text}; log:\n{self.log()[-3000:]}"

    def _healthy(self) -> bool:
        try:
            return httpx2.get(f"http://127.0.0.1:{self.port}/health", timeout=1.0).status_code == 200
        except httpx2.HTTPError:
            return False
