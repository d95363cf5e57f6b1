"""The sound server dies in the middle of a dictation and comes back at another rate, on the real `onevox
daemon` (bundled model, Xvfb, PulseAudio virtual mic): what was captured before the loss is still
transcribed, the user is told (status audio_event/last_error), and the next dictation works."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from onevox.ipc.client import IpcClient
from tests.support.daemon_proc import DaemonProcess
from tests.support.desktop import VirtualDesktop, missing_tools, wait_until
from tests.support.pulse import VirtualMic, pulse_available
from tests.support.wer import normalize

pytestmark = [pytest.mark.e2e, pytest.mark.model]

CLIP = "arctic-a0024.wav"


def _texts(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("SELECT text FROM entries ORDER BY id")]
    finally:
        conn.close()


def test_the_mic_lost_mid_dictation_keeps_what_was_said(tmp_path: Path, speech_dir: Path,
                                                        speech_manifest: list[dict]) -> None:
    if missing_tools() or not pulse_available():
        pytest.fail("fault tests need Xvfb, xdotool and pulseaudio: run scripts/install-system-deps.sh")
    reference = next(c for c in speech_manifest if c["id"] == CLIP.removesuffix(".wav"))["text"]
    first_words = normalize(reference).split()[:3]
    with VirtualDesktop.start(tmp_path / "desk", repeat=False) as desktop, VirtualMic(tmp_path) as mic, \
            DaemonProcess(tmp_path / "d", desktop, mic, {"injection": {"method": "stdout"}}) as daemon:
        client = IpcClient(daemon.socket)
        daemon.cli("start-dictation")
        mic.play(speech_dir / CLIP)
        mic.kill_server()
        wait_until(lambda: client.request("status")["audio_event"].startswith("device_lost"), 15,
                   "the daemon to notice the lost microphone")
        status = client.request("status")
        assert status["last_error"].startswith("audio:") and status["state"] == "recording"
        mic.rate = 44100  # it comes back at another rate
        mic.start_server()
        wait_until(lambda: client.request("status")["audio_event"].startswith("device_restored"), 30,
                   "the microphone to come back")
        daemon.cli("stop-dictation")
        wait_until(lambda: client.request("status")["dictations"] == 1, 30, "the interrupted dictation")
        texts = _texts(daemon.history)
        assert len(texts) == 1 and normalize(texts[0]).split()[:3] == first_words, texts

        daemon.cli("start-dictation")
        mic.play(speech_dir / CLIP)
        daemon.cli("stop-dictation")
        wait_until(lambda: client.request("status")["dictations"] == 2, 30, "the next dictation")
        texts = _texts(daemon.history)
        assert len(texts) == 2 and normalize(texts[1]).split()[:3] == first_words, texts
