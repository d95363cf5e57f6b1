"""A real PulseAudio virtual microphone for tests: a private server with a null sink `vspk` whose monitor is
remapped into a source `vmic` (the default source), so whatever is played into `vspk` is what a program
recording from the default device hears. The default sink is a second null sink, `vout` (the speakers, as
on a headset): what a program plays (onevox's start/stop tones) does not leak into the microphone, and a test
hears it on `vout.monitor`.

Usage::

    with VirtualMic(tmp_path) as mic, mic.activated():   # activated(): this process now talks to it
        refresh_devices()                                 # PortAudio only sees a server started later
        ...                                               # record with AudioCapture / sounddevice
        mic.play(clip)                                    # paplay into the sink, waits until played

Every process is started with Popen and its handle kept; `stop()` ends them in reverse order (never by
name). `kill_server()` / `start_server()` simulate the sound server crashing and coming back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

TOOLS = ("pulseaudio", "pacat", "paplay", "pactl")
SINK = "vspk"
SOURCE = "vmic"
SPEAKERS = "vout"

_SCRIPT = f"""\
load-module module-native-protocol-unix auth-anonymous=1
load-module module-null-sink sink_name={SINK} rate={{rate}} channels=1
load-module module-remap-source master={SINK}.monitor source_name={SOURCE}
load-module module-null-sink sink_name={SPEAKERS} rate={{rate}} channels=1
set-default-sink {SPEAKERS}
set-default-source {SOURCE}
"""


def pulse_available() -> bool:
    """The PulseAudio server and client tools are installed."""
    return all(shutil.which(tool) for tool in TOOLS)


class VirtualMic:
    """A private PulseAudio server under `root` (home/ and run/ folders, 0700) with a virtual mic."""

    def __init__(self, root: Path, rate: int = 48000, max_latency_ms: float = 50.0,
                 as_user: tuple[int, int] | None = None) -> None:
        """as_user: (uid, gid) that the server, the keep-alive and the players run as (and that owns home/
        and run/), so that a daemon of that user can reach the server; None: ours."""
        self.root = Path(root)
        self.as_user = as_user
        self._user_kwargs: dict[str, Any] = (
            {} if as_user is None else {"user": as_user[0], "group": as_user[1], "extra_groups": []})
        self.rate = rate  # the null sink's (and so the mic's) native rate
        self.max_latency_ms = max_latency_ms  # the sink is ready once its latency is below this
        self.home = self.root / "home"
        self.runtime = self.root / "run"
        self.log_path = self.root / "pulseaudio.log"
        self._server: subprocess.Popen[bytes] | None = None
        self._keepalive: list[subprocess.Popen[bytes]] = []  # one silent stream per null sink
        self._players: list[subprocess.Popen[bytes]] = []

    # --- environment -------------------------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        """The variables that make libpulse (and ALSA's pulse plugin) find this server."""
        return {"HOME": str(self.home), "XDG_RUNTIME_DIR": str(self.runtime),
                "PULSE_SERVER": f"unix:{self.runtime}/pulse/native"}

    def environ(self) -> dict[str, str]:
        """os.environ with this server's variables, for child processes."""
        return {**os.environ, **self.env}

    @contextlib.contextmanager
    def activated(self) -> Iterator[None]:
        """Point this process at the server for the duration (restores the previous values)."""
        saved = {key: os.environ.get(key) for key in self.env}
        os.environ.update(self.env)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    # --- life cycle --------------------------------------------------------------------------------
    def __enter__(self) -> VirtualMic:
        self.start_server()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start_server(self, timeout: float = 15.0) -> None:
        """Start pulseaudio and the keep-alive stream; return once the sink runs with low latency."""
        for folder in (self.home, self.runtime):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
            if self.as_user is not None:
                os.chown(folder, *self.as_user)
        script = self.root / "vmic.pa"
        script.write_text(_SCRIPT.format(rate=self.rate))
        with open(self.log_path, "ab") as log:
            self._server = subprocess.Popen(
                ["pulseaudio", "-n", "-F", str(script), "--daemonize=no", "--exit-idle-time=-1",
                 "--log-target=stderr"],
                env=self.environ(), stdin=subprocess.DEVNULL, stdout=log, stderr=log, **self._user_kwargs)
        deadline = time.monotonic() + timeout
        self._wait_for(lambda: self._pactl("info") is not None, deadline, "the server to answer")
        # Without a stream playing into a null sink, a new capture stream starts 1-2 s late (and a new
        # playback stream, such as onevox's start tone, plays 2 s late).
        self._keepalive = [subprocess.Popen(
            ["pacat", "--playback", "-d", sink, "--latency-msec=20", "--format=s16le",
             f"--rate={self.rate}", "--channels=1", "/dev/zero"],
            env=self.environ(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, **self._user_kwargs) for sink in (SINK, SPEAKERS)]
        self._wait_for(self._sink_ready, deadline, f"the sink latency to drop below {self.max_latency_ms} ms")

    def kill_server(self) -> None:
        """Crash the server (SIGKILL, no goodbye to clients) and reap it and the keep-alive."""
        if self._server is not None:
            self._server.kill()
            self._server.wait()
            self._server = None
        self._end_keepalive()

    def stop(self) -> None:
        """End every process this helper started, newest first."""
        for player in reversed(self._players):
            self._end(player)
        self._players.clear()
        self._end_keepalive()
        self._end(self._server)
        self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.poll() is None

    # --- playing -----------------------------------------------------------------------------------
    def play(self, path: Path, *, wait: bool = True, timeout: float = 60.0,
             latency_ms: int = 200) -> subprocess.Popen[bytes]:
        """Play an audio file into the virtual mic with paplay; wait until it finished. The default buffer
        (200 ms) survives a busy machine; a small one (20 ms) starts sooner but can underrun, which
        inserts gaps of silence into what the mic hears."""
        player = subprocess.Popen(["paplay", f"--latency-msec={latency_ms}", "-d", SINK, str(path)],
                                  env=self.environ(),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  **self._user_kwargs)
        self._players.append(player)
        if wait:
            _, err = player.communicate(timeout=timeout)
            if player.returncode != 0:
                reason = err.decode(errors="replace")
                raise RuntimeError(f"paplay {path} failed ({player.returncode}): {reason}")
        return player

    # --- helpers -----------------------------------------------------------------------------------
    def _pactl(self, *args: str) -> str | None:
        result = subprocess.run(["pactl", *args], env=self.environ(), capture_output=True, text=True,
                                timeout=10, check=False, **self._user_kwargs)
        return result.stdout if result.returncode == 0 else None

    def _sink_ready(self) -> bool:
        out = self._pactl("list", "sinks") or ""
        for line in out.splitlines():
            parts = line.split()
            if parts[:1] == ["Latency:"] and len(parts) > 1:
                usec = float(parts[1])
                return 0 < usec < self.max_latency_ms * 1000
        return False

    def _wait_for(self, ready: Callable[[], bool], deadline: float, what: str) -> None:
        while not ready():
            if self._server is None or self._server.poll() is not None:
                raise RuntimeError(f"pulseaudio exited while waiting for {what}:\n{self._log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}:\n{self._log_tail()}")
            time.sleep(0.05)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def _end_keepalive(self) -> None:
        for proc in reversed(self._keepalive):
            self._end(proc)
        self._keepalive.clear()

    @staticmethod
    def _end(proc: subprocess.Popen[bytes] | None, grace: float = 5.0) -> None:
        if proc is None or proc.poll() is not None:
            if proc is not None:
                proc.wait()
            return
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
