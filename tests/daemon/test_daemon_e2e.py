"""A whole dictation, end to end, as a user does it: `onevox daemon` as a process on a virtual X desktop
with a virtual PulseAudio microphone; hold the hotkey (xdotool), speak (paplay a real clip), release; the
words must appear in the focused Tk window. Then the same through IPC `toggle` (what a Wayland binding
calls)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onevox.errors import IpcError
from onevox.ipc.client import IpcClient
from tests.support.desktop import VirtualDesktop, wait_until
from tests.support.pulse import VirtualMic
from tests.support.requirements import require_tools
from tests.support.wer import clip_errors

pytestmark = pytest.mark.e2e

HOTKEY = "ctrl+shift+space"


@pytest.fixture
def setup(tmp_path: Path, speech_dir: Path) -> Iterator[dict]:
    require_tools(("xclip",), pulse=True)
    mic = VirtualMic(tmp_path / "pulse")
    mic.start_server()
    desktop = VirtualDesktop.start(tmp_path / "x")
    proc = None
    try:
        window = desktop.open_target("editor")
        socket_path = tmp_path / "onevox.sock"
        config = tmp_path / "onevox.toml"
        config.write_text(f'[hotkey]\ntrigger = "{HOTKEY}"\nbackend = "x11"\n'
                          f'[injection]\nmethod = "auto"\n'
                          f'[history]\npath = "{tmp_path / "history.sqlite3"}"\n'
                          f'[daemon]\nsocket = "{socket_path}"\nlog_level = "debug"\n')
        env = {**desktop.env, **mic.env, "XDG_DATA_HOME": str(tmp_path / "data"),
               "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
               "XDG_STATE_HOME": str(tmp_path / "state")}
        log = open(tmp_path / "daemon.log", "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen([sys.executable, "-m", "onevox", "daemon", "--foreground", "--config",
                                 str(config)], env=env, stdout=log, stderr=log, start_new_session=True)
        log.close()
        client = IpcClient(socket_path)
        wait_until(lambda: proc.poll() is not None or _ready(client), 120, "the daemon to be ready")
        assert proc.poll() is None, (tmp_path / "daemon.log").read_text()
        yield {"mic": mic, "desktop": desktop, "window": window, "client": client, "proc": proc,
               "log": tmp_path / "daemon.log", "speech": speech_dir}
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        desktop.stop()
        mic.stop()


def _ready(client: IpcClient) -> bool:
    try:
        return bool(client.request("status").get("ready"))
    except IpcError:
        return False


def _clip(speech_manifest: list[dict], clip_id: str) -> dict:
    return next(c for c in speech_manifest if c["id"] == clip_id)


def test_hold_the_hotkey_speak_release_and_the_words_appear(setup: dict, speech_manifest: list[dict]) -> None:
    desktop, window, mic, client = setup["desktop"], setup["window"], setup["mic"], setup["client"]
    clip = _clip(speech_manifest, "arctic-a0024")
    window.focus()
    desktop.xdotool("keydown", HOTKEY)
    time.sleep(0.2)
    mic.play(setup["speech"] / clip["file"])
    time.sleep(0.3)
    released = time.monotonic()
    desktop.xdotool("keyup", HOTKEY)
    wait_until(window.text, 30, "text in the window")
    seen_ms = (time.monotonic() - released) * 1000
    text = window.wait_for_change("", timeout=30)
    errors = clip_errors(clip, text)
    status = client.request("status")
    print(f"\n{clip['id']}: {text!r} WER {errors.wer:.3f}; text in the window {seen_ms:.0f} ms after keyup; "
          f"daemon release_to_text {status['latencies']['release_to_text']}")
    assert errors.wer <= 0.15, setup["log"].read_text()[-3000:]
    assert status["dictations"] == 1 and status["state"] == "idle" and status["hotkey"] == "x11"


def test_ipc_toggle_dictates_too(setup: dict, speech_manifest: list[dict]) -> None:
    window, mic, client = setup["window"], setup["mic"], setup["client"]
    clip = _clip(speech_manifest, "ps-goforward")
    window.focus()
    assert client.request("toggle")["started"] is True
    mic.play(setup["speech"] / clip["file"])
    time.sleep(0.3)
    assert client.request("toggle")["stopped"] is True
    text = window.wait_for_change("", timeout=30)
    assert clip_errors(clip, text).wer <= 0.25, setup["log"].read_text()[-3000:]
    client.request("shutdown")
    assert setup["proc"].wait(15) == 0
    assert not os.path.exists(client.socket_path)
