"""The real `onevox serve` as a child process on a free port.

    with ServeProcess(tmp_path, "--workers", "1", token="secret") as server:
        server.url  # http://127.0.0.1:PORT/v1

It gets its own XDG folders under `root`; the port is the one the server reports in its ready line (it binds
port 0). On exit it is stopped with SIGTERM (then SIGKILL).
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

READY_TIMEOUT_S = 120.0
READY_LINE = re.compile(r"^onevox serve: \S+ at http://(\S+):(\d+)/v1 ")


class ServeProcess:
    def __init__(self, root: Path, *args: str, token: str | None = None, host: str = "127.0.0.1") -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.args = ["--host", host, "--port", "0", *args]
        self.token = token
        self.env = dict(os.environ)
        for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
            (self.root / var.lower()).mkdir(exist_ok=True)
            self.env[var] = str(self.root / var.lower())
        self.env.pop("ONEVOX_CONFIG", None)
        self.env.pop("ONEVOX_SERVE_TOKEN", None)
        if token is not None:
            (self.root / "token").write_text(token + "\n")
            self.args += ["--token-file", str(self.root / "token")]
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.ready_line = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/v1"

    def __enter__(self) -> ServeProcess:
        self.proc = subprocess.Popen([sys.executable, "-m", "onevox", "serve", *self.args], env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + READY_TIMEOUT_S
        seen = []
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = self.proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            match = READY_LINE.match(line)
            if match:
                self.port = int(match.group(2))
                self.ready_line = line.strip()
                return self
        self.stop()
        raise RuntimeError(f"onevox serve did not start: {''.join(seen)[-2000:]}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_kib(self) -> int:
        """The server's resident memory now (from /proc)."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
