"""The real `onevox daemon` as a child process on a virtual desktop and a virtual microphone.

    with VirtualDesktop.start(tmp) as desk, VirtualMic(tmp) as mic:
        with DaemonProcess(tmp, desk, mic, {"injection": {"method": "paste"}}) as daemon:
            daemon.cli("toggle")

The daemon gets its own XDG folders, socket and history under `root`, the desktop's DISPLAY and the mic's
PulseAudio server; it is stopped with `onevox stop` (then SIGTERM, then SIGKILL) when the block ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.desktop import VirtualDesktop, wait_until
from tests.support.pulse import VirtualMic

READY_TIMEOUT_S = 60.0


def toml_config(sections: dict[str, dict[str, Any]]) -> str:
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)  # strings, numbers, booleans, lists: same syntax as JSON


class DaemonProcess:
    def __init__(self, root: Path, desktop: VirtualDesktop, mic: VirtualMic,
                 sections: dict[str, dict[str, Any]], as_user: tuple[int, int] | None = None) -> None:
        """`desktop`: anything with the `env` its programs get (VirtualDesktop, wayland.SwaySession).
        as_user: (uid, gid) that the daemon and its CLI run as, owning everything under `root`; None: ours."""
        self.root = Path(root)
        self.as_user = as_user
        self._user_kwargs: dict[str, Any] = (
            {} if as_user is None else {"user": as_user[0], "group": as_user[1], "extra_groups": []})
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket = self.root / "run" / "onevox" / "onevox.sock"
        self.history = self.root / "history.sqlite3"
        base: dict[str, dict[str, Any]] = {
            "daemon": {"socket": str(self.socket), "log_level": "debug"},
            "history": {"path": str(self.history)},
            "hotkey": {"backend": "x11"},
        }
        for section, values in sections.items():
            base.setdefault(section, {}).update(values)
        self.config_path = self.root / "onevox.toml"
        self.config_path.write_text(toml_config(base), encoding="utf-8")
        self.env = {**desktop.env, **mic.env}
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            path = self.root / var.lower()
            path.mkdir(exist_ok=True)
            self.env[var] = str(path)
        self.env.pop("ONEVOX_CONFIG", None)
        self.env["PYTHONUNBUFFERED"] = "1"
        self.log_path = self.root / "daemon.log"
        self.proc: subprocess.Popen | None = None
        if as_user is not None:
            (self.root / "run").mkdir(exist_ok=True)
            for folder, dirs, files in os.walk(self.root):
                for path in (folder, *(os.path.join(folder, name) for name in (*dirs, *files))):
                    os.chown(path, *as_user)

    def __enter__(self) -> DaemonProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "onevox", "--config", str(self.config_path), "daemon", "--foreground"],
            env=self.env, stdout=log, stderr=log, start_new_session=True, **self._user_kwargs)
        log.close()
        try:
            wait_until(self._ready, READY_TIMEOUT_S, "the daemon to be ready", interval=0.1)
        except TimeoutError:
            self.stop()
            raise AssertionError(f"daemon not ready; its log:\n{self.log()[-4000:]}") from None

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"daemon exited with {self.proc.returncode}; its log:\n{self.log()[-4000:]}")
        done = self.cli("status", "--json", check=False)
        if done.returncode != 0:
            return False
        return json.loads(done.stdout).get("state") == "idle"

    def cli(self, *args: str, check: bool = True, timeout: float = 30.0) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "onevox", "--config", str(self.config_path), *args],
                              env=self.env, capture_output=True, text=True, timeout=timeout,
                              **self._user_kwargs)
        if check and done.returncode != 0:
            raise AssertionError(f"onevox {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return done

    def status(self) -> dict[str, Any]:
        return json.loads(self.cli("status", "--json").stdout)

    def wait_idle(self, timeout: float = 30.0) -> dict[str, Any]:
        wait_until(lambda: self.status().get("state") in ("idle", "error"), timeout, "the daemon to be idle",
                   interval=0.05)
        return self.status()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.cli("stop", check=False, timeout=20.0)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=5)


def key_down(desktop: VirtualDesktop, keys: str) -> float:
    desktop.xdotool("keydown", keys)
    return time.monotonic()


def key_up(desktop: VirtualDesktop, keys: str) -> float:
    desktop.xdotool("keyup", keys)
    return time.monotonic()
