"""Process-level faults on the real `onevox daemon` (bundled model, Xvfb, PulseAudio virtual mic): SIGKILL in
the middle of a dictation, a second daemon, SIGHUP/`onevox reload` with a valid and an invalid config, and a
background start with no model."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from onevox.ipc.client import IpcClient
from tests.support.daemon_proc import DaemonProcess, toml_config
from tests.support.desktop import VirtualDesktop, missing_tools, wait_until
from tests.support.pulse import VirtualMic, pulse_available

CLIP = "arctic-a0024.wav"


def _require_tools() -> None:
    if missing_tools() or not pulse_available():
        pytest.fail("fault tests need Xvfb, xdotool and pulseaudio: "
                    "run scripts/install-system-deps.sh --with-test")


@contextlib.contextmanager
def _desk_and_mic(tmp_path: Path) -> Iterator[tuple[VirtualDesktop, VirtualMic]]:
    with VirtualDesktop.start(tmp_path / "desk", repeat=False) as desktop, VirtualMic(tmp_path) as mic:
        yield desktop, mic


def _rows(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT text, status FROM entries ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.mark.e2e
@pytest.mark.model
def test_sigkill_mid_dictation_then_a_clean_restart_and_a_refused_second_daemon(tmp_path: Path,
                                                                                   speech_dir: Path) -> None:
    _require_tools()
    sections = {"injection": {"method": "stdout"}}
    with _desk_and_mic(tmp_path) as (desktop, mic):
        daemon = DaemonProcess(tmp_path / "d", desktop, mic, sections)
        with daemon:
            daemon.cli("start-dictation")
            mic.play(speech_dir / CLIP)
            daemon.cli("stop-dictation")
            wait_until(lambda: daemon.status()["dictations"] == 1, 30, "the first dictation")
            assert len(_rows(daemon.history)) == 1
            daemon.cli("start-dictation")
            mic.play(speech_dir / CLIP, wait=False)
            time.sleep(1.0)
            assert daemon.status()["state"] == "recording"
            assert daemon.proc is not None
            os.kill(daemon.proc.pid, signal.SIGKILL)
            daemon.proc.wait(timeout=10)
            assert daemon.socket.exists()  # left behind by the killed daemon
            stale = daemon.cli("status", check=False)
            assert stale.returncode == 3, stale.stderr  # "not running", not a hang or a traceback
        assert len(_rows(daemon.history)) == 1  # intact; the killed dictation was never written

        with DaemonProcess(tmp_path / "d", desktop, mic, sections) as again:
            status = again.status()
            assert status["state"] == "idle" and status["last_error"] == ""
            second = subprocess.run([sys.executable, "-m", "onevox", "--config", str(again.config_path),
                                     "daemon", "--foreground"], env=again.env, capture_output=True,
                                    text=True, timeout=60)
            assert second.returncode != 0
            assert f"already running (pid {status['pid']})" in second.stderr
            assert "Traceback" not in second.stderr
            background = again.cli("daemon", check=False, timeout=60)
            assert background.returncode != 0 and f"pid {status['pid']}" in background.stderr
            again.cli("start-dictation")
            mic.play(speech_dir / CLIP)
            again.cli("stop-dictation")
            wait_until(lambda: again.status()["dictations"] == 1, 30, "a dictation after the restart")
        rows = _rows(daemon.history)
        assert len(rows) == 2 and rows[-1][1] == "injected"


@pytest.mark.e2e
@pytest.mark.model
def test_sighup_and_onevox_reload_apply_or_reject_the_config(tmp_path: Path, speech_dir: Path) -> None:
    _require_tools()
    from onevox.cli.daemon_cmd import reload

    with _desk_and_mic(tmp_path) as (desktop, mic), \
            DaemonProcess(tmp_path / "d", desktop, mic, {"injection": {"method": "stdout"}}) as daemon:
            base = tomllib.loads(daemon.config_path.read_text(encoding="utf-8"))
            client = IpcClient(daemon.socket)  # the CLI itself would refuse a broken file

            def write(**sections: dict) -> None:
                names = {*base, *sections}
                merged = {name: {**base.get(name, {}), **sections.get(name, {})} for name in names}
                daemon.config_path.write_text(toml_config(merged), encoding="utf-8")

            def reloaded(text: str) -> dict:
                wait_until(lambda: text in client.request("status")["reload"], 10, f"a reload with {text!r}")
                return client.request("status")

            pid = daemon.status()["pid"]
            write(post_processing={"capitalize": False})
            os.kill(pid, signal.SIGHUP)
            assert reloaded("post_processing.capitalize")["last_error"] == ""

            daemon.config_path.write_text(toml_config(base) + "[vad]\nthreshold = 7\n", encoding="utf-8")
            os.kill(pid, signal.SIGHUP)
            status = reloaded("threshold")
            assert status["reload"].startswith("rejected:")
            assert status["last_error"].startswith("config:") and status["state"] == "idle"
            assert "config not reloaded" in daemon.log()
            runner = CliRunner()
            done = runner.invoke(reload, ["--config", str(daemon.config_path)], env=daemon.env)
            assert done.exit_code != 0 and "threshold" in str(done.exception)

            write(post_processing={"capitalize": False}, hotkey={"trigger": "ctrl+alt+k"})
            done = runner.invoke(reload, ["--config", str(daemon.config_path)], env=daemon.env)
            assert done.exit_code == 0, done.output
            assert "hotkey.trigger" in done.output or "no change" in done.output  # the poll may win
            assert "hotkey.trigger" in daemon.log()
            assert daemon.status()["hotkey"] == "x11"  # rebound, still listening
            desktop.xdotool("key", "ctrl+shift+space")  # the old key does nothing now
            time.sleep(0.3)
            assert client.request("status")["state"] == "idle"
            desktop.xdotool("keydown", "ctrl+alt+k")
            wait_until(lambda: client.request("status")["state"] == "recording", 10, "the new key to record")
            desktop.xdotool("keyup", "ctrl+alt+k")
            wait_until(lambda: client.request("status")["state"] != "recording", 10, "the new key's release")

            write(post_processing={"capitalize": False, "replacements": {"north": "Northwest"}},
                  audio={"sample_rate": 48000})
            os.kill(pid, signal.SIGHUP)
            reloaded("audio.sample_rate")
            wait_until(lambda: client.request("status")["audio_event"].startswith("device_changed"), 10,
                       "the capture to be reopened")
            daemon.wait_idle()
            count = client.request("status")["dictations"]
            daemon.cli("start-dictation")
            mic.play(speech_dir / CLIP)
            daemon.cli("stop-dictation")
            wait_until(lambda: client.request("status")["dictations"] == count + 1, 30, "a dictation")
            assert "Northwest" in client.request("status")["last_text"]  # the new replacement rule


def test_a_background_start_without_the_model_says_what_to_run(tmp_path: Path) -> None:
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        (tmp_path / var.lower()).mkdir()
        env[var] = str(tmp_path / var.lower())
    env.pop("ONEVOX_CONFIG", None)
    env.pop("DISPLAY", None)
    config = tmp_path / "onevox.toml"
    config.write_text(toml_config({
        "model": {"name": "base.en"}, "hotkey": {"backend": "none"}, "vad": {"backend": "off"},
        "history": {"path": str(tmp_path / "h.sqlite3")},
        "daemon": {"socket": str(tmp_path / "run" / "onevox.sock")}}), encoding="utf-8")

    def onevox(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "onevox", "--config", str(config), *args], env=env,
                              capture_output=True, text=True, timeout=60)

    started = onevox("daemon")
    try:
        assert started.returncode == 0, started.stderr
        assert "onevox daemon started" in started.stdout
        assert "cannot dictate yet" in started.stderr and "onevox models download base.en" in started.stderr
        status = json.loads(onevox("status", "--json").stdout)
        assert status["state"] == "error" and "onevox models download base.en" in status["fault"]
        human = onevox("status").stdout
        assert "state:      error" in human and "onevox models download base.en" in human
        refused = onevox("toggle")
        assert refused.returncode == 1 and "onevox models download base.en" in refused.stderr
        assert "Traceback" not in refused.stderr
    finally:
        stopped = onevox("stop")
    assert stopped.returncode == 0, stopped.stderr
