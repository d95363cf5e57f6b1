"""Shared pieces for the fault tests: an in-process daemon on the real stages that can be broken here (history
database, injector), and small file systems that can be made read-only or filled (we run as root)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onevox.config import (
    Config,
    DaemonConfig,
    HistoryConfig,
    HotkeyConfig,
    InjectionConfig,
    PostProcessingConfig,
    VadConfig,
)
from onevox.daemon.app import Daemon
from onevox.daemon.stages import StageFactory
from tests.daemon.conftest import WAIT_S, EventLog
from tests.daemon.doubles import SPEECH_LEVEL, FakeClock, FakeMic, FakeRecognizer, play, virtual_mic
from tests.support.waiting import wait_until


def fault_config(tmp_path: Path, history: Path, method: str = "stdout") -> Config:
    return Config(hotkey=HotkeyConfig(backend="none"), vad=VadConfig(backend="off"),
                  history=HistoryConfig(path=str(history)), injection=InjectionConfig(method=method),
                  post_processing=PostProcessingConfig(trailing_space=False),
                  daemon=DaemonConfig(socket=str(tmp_path / "run" / "d.sock")))


class Running:
    def __init__(self, daemon: Daemon, mic: FakeMic, clock: FakeClock) -> None:
        self.daemon, self.mic, self.clock = daemon, mic, clock
        self.log = EventLog(daemon.bus)

    def dictate(self, dictation: int) -> dict[str, Any]:
        """One dictation through the real pipeline; returns its `transcribed` event once it is finished."""
        assert self.daemon.controller.start()["dictation"] == dictation
        self.mic.wait_begun(len(self.mic.begins) + 1)
        play(self.mic, self.clock, SPEECH_LEVEL, 0.3)
        play(self.mic, self.clock, 0.0, 0.1)
        self.daemon.controller.stop()
        event = self.log.wait_for("transcribed", lambda e: e["dictation"] == dictation)
        wait_until(lambda: self.daemon.commands.status()["in_flight"] == 0, timeout=WAIT_S)
        return event

    def close(self) -> None:
        self.daemon.stop()
        self.log.close()


def start_daemon(config: Config, texts: list[str], **stages: Any) -> Running:
    mic, clock = virtual_mic()
    daemon = Daemon(config, factory=StageFactory(source=mic, recognizer=FakeRecognizer(texts), **stages),
                    clock=clock)
    daemon.start()
    return Running(daemon, mic, clock)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted under tmp_path (skips where mounting is not allowed); unmounted after."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            subprocess.run(["umount", "-l", str(mount)], check=False, timeout=10)
