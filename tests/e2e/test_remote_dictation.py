"""Dictation with `[model] backend = "openai"` through a real daemon: speech played into the virtual
microphone between `onevox start-dictation` and `stop-dictation`, decoded by faster-whisper-server (PyPI)
serving the bundled tiny.en, text read from the history. Then the server dies mid-session: hung first
(SIGSTOP: the port still takes the request, nothing answers), then killed; the local model must answer
after one timeout, and the dictations after it must not pay that timeout again."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.support.daemon_proc import DaemonProcess
from tests.support.desktop import wait_until
from tests.support.pulse import VirtualMic
from tests.support.requirements import require_pulse
from tests.support.wer import clip_errors
from tests.support.whisper_server import WhisperServer

pytestmark = [pytest.mark.e2e, pytest.mark.model]

TIMEOUT_S = 5.0  # [model] timeout_s
RETRY_AFTER_S = 12.0  # [model] retry_after_s
CLIP = "arctic-a0024"
MAX_WER = 0.2


class NoDesktop:
    """What DaemonProcess takes from a desktop: the environment. This daemon needs none (no hotkey grab, text
    goes to its stdout, no indicator): the test reads the text from the history."""

    def __init__(self) -> None:
        self.env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}


class Dictations:
    def __init__(self, daemon: DaemonProcess, mic: VirtualMic, clip: Path) -> None:
        self.daemon, self.mic, self.clip = daemon, mic, clip

    def history(self) -> list[dict]:
        return json.loads(self.daemon.cli("history", "list", "--json").stdout)

    def dictate(self) -> tuple[dict, float]:
        """One dictation of the clip: its history entry and the seconds from the stop command to it."""
        before = len(self.history())
        self.daemon.cli("start-dictation")
        self.mic.play(self.clip)
        start = time.monotonic()
        self.daemon.cli("stop-dictation")
        wait_until(lambda: len(self.history()) > before, 60.0, "the dictation's history entry", interval=0.05)
        waited = time.monotonic() - start
        self.daemon.wait_idle()
        return self.history()[0], waited  # newest first


def test_remote_dictation_and_the_server_dying_mid_session(tmp_path: Path, speech_dir: Path,
                                                           speech_manifest: list[dict]) -> None:
    require_pulse()
    reference = next(c for c in speech_manifest if c["id"] == CLIP)
    with WhisperServer(tmp_path / "fws") as server, VirtualMic(tmp_path / "mic") as mic:
        sections = {"hotkey": {"backend": "none"}, "injection": {"method": "stdout"},
                    "feedback": {"sounds": False, "indicator": "off"},
                    "model": {"backend": "openai", "url": server.url, "timeout_s": TIMEOUT_S,
                              "retry_after_s": RETRY_AFTER_S, "fallback": "local"}}
        with DaemonProcess(tmp_path / "daemon", NoDesktop(), mic, sections) as daemon:
            run = Dictations(daemon, mic, speech_dir / f"{CLIP}.wav")
            assert f"audio is sent to {server.url}" in daemon.log()
            assert f"audio:      sent to {server.url}; fallback: tiny.en" in daemon.cli("status").stdout

            remote, _ = run.dictate()
            assert clip_errors(reference, remote["text"]).wer <= MAX_WER, remote["text"]
            assert remote["model"] == f"whisper-1 at {server.url}"
            status = daemon.status()["remote"]
            assert status["remote_decodes"] >= 1 and status["local_fallbacks"] == 0
            sent = status["remote_decodes"]

            server.pause()  # hung: takes the request, never answers
            hung, hung_s = run.dictate()
            assert clip_errors(reference, hung["text"]).wer <= MAX_WER, hung["text"]
            assert hung["model"] == "tiny.en"  # the history says who decoded it
            status = daemon.status()["remote"]
            assert status["local_fallbacks"] >= 1 and status["remote_decodes"] == sent
            assert f"no answer within {TIMEOUT_S:g} s" in status["last_remote_error"]
            assert hung_s >= TIMEOUT_S  # one timeout...

            after, after_s = run.dictate()
            assert clip_errors(reference, after["text"]).wer <= MAX_WER, after["text"]
            assert after_s < TIMEOUT_S  # ...and not again: the local model answers at once
            assert daemon.status()["remote"]["retry_remote_in_s"] is not None

            server.kill()  # dead: connections are refused
            wait_until(lambda: daemon.status()["remote"]["retry_remote_in_s"] is None, RETRY_AFTER_S + 5,
                       "the daemon to try the server again", interval=0.5)
            killed, killed_s = run.dictate()
            assert clip_errors(reference, killed["text"]).wer <= MAX_WER, killed["text"]
            status = daemon.status()["remote"]
            assert "cannot reach the server" in status["last_remote_error"]
            assert killed_s < TIMEOUT_S  # a refused connection costs no timeout at all
            print(f"\nstop to history entry: hung server {hung_s:.2f} s (timeout {TIMEOUT_S:g} s), "
                  f"then {after_s:.2f} s; killed server {killed_s:.2f} s")
