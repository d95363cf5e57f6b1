"""Who may talk to the daemon, and what it leaves on disk: a private socket in a private folder, other users
refused, no network socket at all, a 0600 history database, and no audio on disk unless the user asks.

The daemon here is the real Daemon (IPC server, controller, pipeline, history) in-process, fed by a file
'microphone' through the real capture ring, with the energy VAD and a test-double recognizer (what is tested
is what the daemon opens and writes, not the words); one test runs the real `onevox daemon` process with the
real model and inspects it from the outside.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from onevox.config import AudioConfig, Config, HotkeyConfig, InjectionConfig, VadConfig
from onevox.daemon.app import Daemon
from onevox.daemon.stages import StageFactory
from onevox.inject.stdout import StdoutInjector
from onevox.ipc.client import IpcClient
from tests.daemon.doubles import FakeRecognizer, tone
from tests.security.netscan import network_sockets, network_sockets_of, socket_inodes, unix_socket_inodes
from tests.soak.rig import SoakRig

AUDIO_MAGIC = (b"RIFF", b"fLaC", b"OggS", b"ID3", b"\xff\xfb", b"\xff\xf3")
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".mp3", ".opus", ".raw", ".pcm", ".npy"}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def private_config(*, save_recordings: bool = False) -> Config:
    """Defaults everywhere that matters here (XDG socket, XDG history), no hotkey, stdout injection."""
    return Config(hotkey=HotkeyConfig(backend="none"), vad=VadConfig(backend="energy"),
                  audio=AudioConfig(save_recordings=save_recordings),
                  injection=InjectionConfig(method="stdout"))


@pytest.fixture
def short_xdg(isolated_xdg: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """isolated_xdg, with XDG_RUNTIME_DIR short enough for a Unix socket path (107 bytes)."""
    from tests.ipc.doubles import short_tmp_dir

    with short_tmp_dir() as runtime:
        runtime.chmod(0o700)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
        yield isolated_xdg


@pytest.fixture
def daemon(short_xdg: Path) -> Iterator[Daemon]:
    from onevox.audio.filesource import FileAudioSource

    source = FileAudioSource(np.zeros(1600, np.float32), 16000, realtime=True)
    factory = StageFactory(source=source, injector=StdoutInjector(io.StringIO()), recognizer=FakeRecognizer())
    with Daemon(private_config(), factory=factory, hotkey=False) as d:
        yield d


def test_socket_is_0600_in_a_0700_folder(daemon: Daemon, short_xdg: Path) -> None:
    path = daemon.config.socket_path()
    assert path.is_relative_to(os.environ["XDG_RUNTIME_DIR"])
    assert stat.S_ISSOCK(path.stat().st_mode)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert path.stat().st_uid == os.getuid()
    assert IpcClient(path).request("ping")["pong"] is True


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another user")
def test_another_uid_is_refused_by_the_running_daemon(daemon: Daemon) -> None:
    """The IPC suite's forked-child client (tests/ipc/test_peer_uid.py), against the whole daemon."""
    from tests.ipc.test_peer_uid import NOBODY, _request_as

    path = daemon.config.socket_path()
    kind, body = _request_as(NOBODY, path)
    assert kind == "errno", body  # the 0700 folder keeps nobody out before the socket is even reached
    for folder in (path.parent, path.parent.parent):  # loosened on purpose: SO_PEERCRED alone must refuse
        os.chmod(folder, 0o711)
    os.chmod(path, 0o666)
    kind, body = _request_as(NOBODY, path)
    assert kind == "reply" and json.loads(body)["error"]["code"] == "forbidden", body
    status = daemon.commands.status()
    assert status["state"] == "idle" and status["dictations"] == 0


def test_the_daemon_has_no_network_socket(daemon: Daemon) -> None:
    pid = os.getpid()
    mine = socket_inodes(pid)
    assert mine, "expected at least the IPC socket"
    assert network_sockets_of(pid) == []
    assert unix_socket_inodes(pid) & mine  # the IPC socket is there, and it is a Unix socket


def test_the_scan_would_see_a_listening_port() -> None:
    """The check above can fail: a TCP listener of this process is found."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        found = network_sockets_of(os.getpid())
        assert len(found) == 1 and found[0].startswith("tcp ")
    assert network_sockets_of(os.getpid()) == []


def _dictate_tones(config: Config, count: int) -> list[str]:
    texts = []
    with SoakRig(config, FakeRecognizer()) as rig:
        for _ in range(count):
            _event, text = rig.dictate(tone(0.6))
            texts.append(text)
    return texts


def _audio_files(root: Path) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        with open(path, "rb") as handle:
            head = handle.read(4)
        if path.suffix.lower() in AUDIO_SUFFIXES or head.startswith(AUDIO_MAGIC):
            found.append(path)
    return found


def test_history_database_is_0600_and_holds_the_text(short_xdg: Path) -> None:
    texts = _dictate_tones(private_config(), 2)
    assert all(t.strip() for t in texts), texts
    db = private_config().history_path()
    assert db.is_relative_to(short_xdg) and db.exists()
    for path in db.parent.glob(db.name + "*"):  # the database and any -wal / -shm beside it
        assert mode(path) == 0o600, path
    assert mode(db.parent) & 0o077 == 0
    from onevox.history import History

    with History(db, 100) as history:
        assert [e.text.strip() for e in history.list(limit=10)] == [t.strip() for t in reversed(texts)]


def test_no_audio_on_disk_unless_asked(short_xdg: Path) -> None:
    _dictate_tones(private_config(), 3)
    assert _audio_files(short_xdg) == []
    assert _audio_files(Path(os.environ["XDG_RUNTIME_DIR"])) == []


def test_recordings_are_written_0600_when_turned_on(short_xdg: Path) -> None:
    _dictate_tones(private_config(save_recordings=True), 2)
    written = _audio_files(short_xdg)
    assert len(written) == 2, written
    for path in written:
        assert path.suffix == ".wav" and mode(path) == 0o600, path
        assert mode(path.parent) == 0o700
        import soundfile as sf

        assert sf.info(path).duration > 0.5


@pytest.mark.model
@pytest.mark.timeout(180)
def test_onevox_daemon_process_has_no_network_socket(short_xdg: Path, tmp_path: Path) -> None:
    """The real `onevox daemon --foreground` (real model; no microphone here, which it survives)."""
    config = tmp_path / "config.toml"
    config.write_text('[hotkey]\nbackend = "none"\n[injection]\nmethod = "stdout"\n')
    env = {**os.environ, "ONEVOX_CONFIG": str(config)}
    proc = subprocess.Popen([sys.executable, "-m", "onevox", "daemon", "--foreground"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        socket_path = Path(os.environ["XDG_RUNTIME_DIR"]) / "onevox" / "onevox.sock"
        deadline = time.monotonic() + 120
        while not _answers(socket_path):
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the daemon never answered"
            time.sleep(0.2)
        assert mode(socket_path) == 0o600 and mode(socket_path.parent) == 0o700
        inodes = socket_inodes(proc.pid)
        table = network_sockets(proc.pid)
        assert [table[i] for i in inodes if i in table] == []
        assert unix_socket_inodes(proc.pid) & inodes
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _answers(path: Path) -> bool:
    try:
        return IpcClient(path).request("ping")["pong"] is True
    except Exception:
        return False
