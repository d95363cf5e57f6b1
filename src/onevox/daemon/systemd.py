"""Running under systemd: the user unit (`onevox install-service`) and the readiness notification that lets
`systemctl --user start onevox` return only once the daemon answers."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import sys
from pathlib import Path

from onevox.errors import OnevoxError

log = logging.getLogger(__name__)

TEMPLATE_PATH = Path(__file__).with_name("onevox.service")
UNIT_NAME = "onevox.service"
# what the daemon needs from the desktop session to reach the display (XAUTHORITY: X refuses a client
# without the cookie, which e.g. GDM keeps outside ~/.Xauthority). The unit passes them on from the user
# manager, which learns them from IMPORT_ENVIRONMENT: install-service prints it; the unit's comment and the
# README say the same.
SESSION_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY")
IMPORT_ENVIRONMENT = "systemctl --user import-environment " + " ".join(SESSION_VARIABLES)
# characters that need no quoting in an ExecStart= word
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_./:@+=,-]+")


class ServiceError(OnevoxError):
    """The unit file could not be written."""


def default_unit_path() -> Path:
    """~/.config/systemd/user/onevox.service (honours $XDG_CONFIG_HOME, as systemd does)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user" / UNIT_NAME


def exec_word(arg: str) -> str:
    """One ExecStart= argument, escaped so systemd passes it through unchanged: `%` starts a specifier and
    `$` a variable, so both are doubled; anything beyond plain path characters is double-quoted."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in arg):
        raise ServiceError(f"{arg!r} contains control characters and cannot go into a systemd unit")
    escaped = arg.replace("%", "%%").replace("$", "$$")
    if _PLAIN_WORD.fullmatch(arg):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def daemon_command(python: str | None = None, config_path: Path | None = None) -> list[str]:
    """The daemon as systemd runs it: this Python (so a virtualenv works unactivated), in the foreground."""
    command = [python or sys.executable, "-m", "onevox", "daemon", "--foreground"]
    if config_path is not None:
        command += ["--config", str(Path(config_path).expanduser().resolve())]
    return command


def render_unit(python: str | None = None, config_path: Path | None = None) -> str:
    """The unit file text for this installation."""
    try:
        template = TEMPLATE_PATH.read_text()
    except OSError as exc:
        raise ServiceError(f"the unit template {TEMPLATE_PATH} is missing; reinstall onevox") from exc
    exec_start = " ".join(exec_word(arg) for arg in daemon_command(python, config_path))
    return template.replace("@EXEC_START@", exec_start)


def install_unit(text: str, path: Path | None = None) -> Path:
    """Write the unit (atomically, 0644) and return where it went."""
    target = path or default_unit_path()
    tmp = target.with_name(target.name + ".tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ServiceError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target


def notify(state: str) -> bool:
    """Send `state` (e.g. "READY=1", "STOPPING=1") to systemd when it started us with Type=notify.
    False when not under systemd or the message could not be sent (never fatal)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        log.warning("could not notify systemd (%s): %s", state, exc)
        return False
    return True
