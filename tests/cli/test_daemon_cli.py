"""The daemon CLI commands against a real IpcServer (FakeController behind it), and `onevox daemon` itself
with the real model (marked `model`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from onevox.cli import cli
from onevox.daemon.events import EventBus
from onevox.daemon.lifecycle import InstanceLock, RuntimeFiles, running_pid, wait_for_exit
from onevox.ipc.server import IpcServer
from tests.ipc.doubles import WAIT_S, FakeController


def run(config_file: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", str(config_file)])


def test_status_json(server: IpcServer, config_file: Path) -> None:
    result = run(config_file, "status", "--json")
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["running"] is True and status["state"] == "idle" and status["model"] == "tiny.en"
    assert status["latencies"]["inference"]["p95"] == 120.0


def test_status_human_view(server: IpcServer, config_file: Path) -> None:
    result = run(config_file, "status")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"onevox daemon: running (pid {os.getpid()}, version 0.1.0)"
    for expected in ("state:      idle", "model:      tiny.en", "device:     default",
                     "uptime:     1h 02m 03s", "memory:     181.2 MB RSS", "dictations: 2"):
        assert expected in lines
    header = lines.index("latency (ms)        count      p50      p95     last")
    assert lines[header + 1].split() == ["inference", "2", "84.5", "120.0", "90.0"]


def test_status_when_not_running(config_file: Path, socket_path: Path) -> None:
    result = run(config_file, "status")
    assert result.exit_code == 3
    assert f"onevox daemon is not running (no socket at {socket_path}); start it with `onevox daemon`" in (
        result.stderr)
    result = run(config_file, "status", "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["running"] is False


def test_status_while_the_daemon_is_still_starting(config_file: Path, socket_path: Path) -> None:
    with InstanceLock(RuntimeFiles.for_socket(socket_path)) as lock:
        lock.write_pid()
        result = run(config_file, "status", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"running": True, "state": "starting", "pid": os.getpid()}


@pytest.mark.parametrize(("command", "cmd"), [
    ("toggle", "toggle"), ("start-dictation", "start_dictation"), ("stop-dictation", "stop_dictation")])
def test_dictation_commands_reach_the_daemon(server: IpcServer, controller: FakeController, config_file: Path,
                                             command: str, cmd: str) -> None:
    result = run(config_file, command)
    assert result.exit_code == 0, result.output
    assert controller.commands() == [cmd]
    assert result.stdout.strip() in ("recording", "idle")


def test_toggle_json(server: IpcServer, config_file: Path) -> None:
    result = run(config_file, "toggle", "--json")
    assert json.loads(result.stdout) == {"state": "recording"}


def test_daemon_error_is_one_line_and_exit_1(server: IpcServer, config_file: Path) -> None:
    result = run(config_file, "cancel")
    assert result.exit_code == 1
    assert result.stderr == "onevox: nothing to cancel: no dictation is running\n"


@pytest.mark.parametrize("command", ["toggle", "cancel", "stop", "events", "start-dictation"])
def test_commands_say_the_daemon_is_not_running(config_file: Path, command: str) -> None:
    result = run(config_file, command)
    assert result.exit_code == 3
    assert "onevox daemon is not running" in result.stderr and "Traceback" not in result.output


def test_stop_waits_until_the_daemon_is_gone(controller: FakeController, config_file: Path,
                                             socket_path: Path) -> None:
    lock = InstanceLock(RuntimeFiles.for_socket(socket_path))  # as the daemon does: lock, then listen
    lock.acquire()
    lock.write_pid()
    server = IpcServer(socket_path, controller.dispatch)
    server.start()

    def exit_daemon() -> None:
        server.stop()
        lock.release()

    controller.on_shutdown = lambda: threading.Thread(target=exit_daemon).start()
    result = run(config_file, "stop")
    assert result.exit_code == 0, result.output
    assert result.stdout == "onevox daemon stopped\n"
    assert running_pid(RuntimeFiles.for_socket(socket_path)) is None


HOLDER = r"""
import signal, sys, time
from pathlib import Path
from onevox.daemon.lifecycle import InstanceLock, RuntimeFiles
lock = InstanceLock(RuntimeFiles.for_socket(Path(sys.argv[1])))
lock.acquire()
lock.write_pid()
signal.signal(signal.SIGTERM, lambda *a: (lock.release(), sys.exit(0)))
print("holding", flush=True)
while True:
    time.sleep(0.05)
"""


def test_stop_signals_a_daemon_that_is_still_starting(config_file: Path, socket_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(socket_path)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        result = run(config_file, "stop")
        assert result.exit_code == 0, result.output
        assert holder.wait(WAIT_S) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.communicate(timeout=WAIT_S)


def test_events_prints_json_lines_until_the_stream_ends(server: IpcServer, bus: EventBus,
                                                       config_file: Path) -> None:
    def publish() -> None:
        stop = threading.Event()
        while bus.subscriber_count == 0 and not stop.wait(0.01):
            pass
        bus.publish("recording_started", dictation=1)
        bus.publish("transcribed", text="hello", timings={"inference": 81.0})
        bus.close()

    threading.Thread(target=publish, daemon=True).start()
    result = run(config_file, "events")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["event"] for e in events] == ["recording_started", "transcribed"]
    assert events[1]["text"] == "hello" and events[1]["v"] == 1
    assert "closed the event stream" in result.stderr


def test_install_service_print(config_file: Path) -> None:
    result = run(config_file, "install-service", "--print")
    assert result.exit_code == 0
    exec_start = next(line for line in result.stdout.splitlines() if line.startswith("ExecStart="))
    assert exec_start == (f"ExecStart={sys.executable} -m onevox daemon --foreground --config {config_file}")
    assert not (Path(os.environ["XDG_CONFIG_HOME"]) / "systemd").exists()


def test_install_service_writes_the_unit(isolated_xdg: Path) -> None:
    result = CliRunner().invoke(cli, ["install-service"])
    assert result.exit_code == 0, result.output
    unit = isolated_xdg / "xdg_config_home" / "systemd" / "user" / "onevox.service"
    assert f"wrote {unit}" in result.stdout
    assert "systemctl --user import-environment DISPLAY WAYLAND_DISPLAY" in result.stdout
    assert "systemctl --user enable --now onevox" in result.stdout
    assert "--config" not in unit.read_text()


def test_install_service_refuses_a_broken_config(isolated_xdg: Path) -> None:
    broken = isolated_xdg / "broken.toml"
    broken.write_text("[daemon]\nsocket = 5\n")
    result = CliRunner().invoke(cli, ["install-service", "--config", str(broken)])
    assert result.exit_code == 2 and "daemon.socket" in result.stderr


# ---- the real daemon -----------------------------------------------------------------------------------


def _real_config(isolated_xdg: Path, socket_path: Path) -> Path:
    path = isolated_xdg / "real.toml"
    path.write_text(f'[daemon]\nsocket = "{socket_path}"\n[hotkey]\nbackend = "none"\n'
                    f'[injection]\nmethod = "stdout"\n[history]\npath = "{isolated_xdg / "h.sqlite3"}"\n')
    return path


def _onevox(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    return subprocess.run([sys.executable, "-m", "onevox", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.mark.model
def test_real_daemon_starts_answers_and_stops(isolated_xdg: Path, socket_path: Path) -> None:
    config = _real_config(isolated_xdg, socket_path)
    started = _onevox("daemon", "--config", str(config))
    try:
        assert started.returncode == 0, started.stderr
        assert started.stdout.startswith("onevox daemon started (pid ")
        status = json.loads(_onevox("status", "--json", "--config", str(config), timeout=30).stdout)
        assert status["running"] is True and status["state"] == "idle" and status["model"] == "tiny.en"
        begun = _onevox("start-dictation", "--config", str(config), timeout=30)
        if status["audio_event"].startswith("device_lost"):  # no microphone on this machine: said at once
            assert begun.returncode == 1 and begun.stdout == "", begun
            assert begun.stderr.startswith("onevox: no microphone: "), begun.stderr
            assert len(begun.stderr.strip().splitlines()) == 1
        else:
            assert begun.returncode == 0, begun.stderr
        assert _onevox("cancel", "--config", str(config), timeout=30).returncode == 0
    finally:
        stopped = _onevox("stop", "--config", str(config), timeout=60)
    assert stopped.returncode == 0 and stopped.stdout == "onevox daemon stopped\n", stopped.stderr
    assert not socket_path.exists()
    log_text = (isolated_xdg / "xdg_state_home" / "onevox" / "daemon.log").read_text()
    assert "ready" in log_text


@pytest.mark.model
def test_real_daemon_in_foreground_exits_cleanly_on_sigterm(isolated_xdg: Path, socket_path: Path) -> None:
    config = _real_config(isolated_xdg, socket_path)
    files = RuntimeFiles.for_socket(socket_path)
    command = [sys.executable, "-m", "onevox", "daemon", "--foreground", "--config", str(config)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ping_deadline = threading.Event()
        while not socket_path.exists() and proc.poll() is None and not ping_deadline.wait(0.1):
            pass
        assert proc.poll() is None, proc.communicate()[1]
        assert _onevox("status", "--config", str(config), timeout=30).returncode == 0
        proc.terminate()
        assert proc.wait(60) == 0, proc.communicate()[1]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=WAIT_S)
    assert wait_for_exit(files, WAIT_S) and not socket_path.exists()


def test_status_names_the_feedback_running() -> None:
    from onevox.cli.daemon_cmd import format_status

    assert "feedback:   sounds, indicator-x11" in format_status({"feedback": ["sounds", "indicator-x11"]})
    assert "feedback" not in format_status({"feedback": []})
