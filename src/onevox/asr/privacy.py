"""Where dictated audio goes: said plainly by the daemon's log, `onevox status` and `onevox doctor`, since
onevox otherwise keeps it on the machine. Light on purpose: the CLI imports it without the HTTP client."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from onevox.config import ModelConfig


def is_private_url(url: str) -> bool:
    """True when nobody on the network can hear the audio: https, or plain http to this machine."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def privacy_line(cfg: ModelConfig) -> str | None:
    """One line saying where dictated audio goes; None when it stays on this machine."""
    if cfg.backend != "openai":
        return None
    line = f"audio is sent to {cfg.url} (model {cfg.remote_model})"
    if not is_private_url(cfg.url):
        line += "; warning: plain http to another host, the audio crosses the network unencrypted"
    return line
