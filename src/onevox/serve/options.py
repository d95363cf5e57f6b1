"""Settings of `onevox serve` and the checks that keep a server from starting in a way that cannot work."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from onevox.errors import OnevoxError

TOKEN_ENV = "ONEVOX_SERVE_TOKEN"
MODEL_ALIASES = ("whisper-1",)  # OpenAI's model name: clients written for OpenAI send it unchanged


class ServeSetupError(OnevoxError):
    """Server settings that cannot work (a bad option, no token beyond loopback)."""

    exit_code = 2


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1  # loaded models, each decoding one request at a time
    queue: int = 8  # requests that may wait for a worker; one more gets 429
    token: str | None = None  # bearer token every /v1 request must carry (required beyond loopback)
    max_upload_mb: float = 25.0  # OpenAI's own limit on an upload
    max_audio_s: float = 1800.0  # decoded audio longer than this is refused
    max_prompt_chars: int = 2000
    upload_timeout_s: float = 120.0  # a request whose form has not arrived by then gets 408 and its slot back

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    def check(self) -> None:
        """ServeSetupError (one line) for settings a server must not run with."""
        if self.workers < 1:
            raise ServeSetupError(f"--workers must be at least 1, not {self.workers}")
        if self.queue < 0:
            raise ServeSetupError(f"--queue must be 0 or more, not {self.queue}")
        if self.token is not None and not self.token.strip():
            raise ServeSetupError("the token is empty")
        if not is_loopback(self.host) and not self.token:
            raise ServeSetupError(f"refusing to listen on {self.host} without a token: anyone who can reach "
                                  f"it could use it; pass --token-file FILE or set {TOKEN_ENV}")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything
