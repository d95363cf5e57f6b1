"""Edit commands end to end: the real daemon (bundled model) on Xvfb, speech into the PulseAudio virtual
microphone with the hotkey held, a real Tk window. A real clip is dictated, then "scratch that" (flite,
generated here) must leave the window exactly as it was before, in paste and in type mode; typing into the
window in between makes it refuse and say why; "press enter" puts a newline in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.support.daemon_proc import DaemonProcess, key_down, key_up
from tests.support.desktop import VirtualDesktop, missing_tools, wait_until
from tests.support.pulse import VirtualMic, pulse_available

pytestmark = [pytest.mark.e2e, pytest.mark.model]

HOTKEY = "ctrl+shift+space"
CLIP = "arctic-a0024.wav"
# flite's slt voice, which tiny.en hears best; with the spoken-punctuation words in the model's prompt it
# heard espeak-ng's "scratch that" as "scratch, mat." or "scratch mark." (measured, side by side)
SPOKEN = {"scratch": "scratch that", "enter": "press enter"}
PAD_S = (0.3, 0.5)  # silence before and after the synthetic speech


class Rig:
    def __init__(self, root: Path) -> None:
        missing = missing_tools(("flite",))
        if missing or not pulse_available():
            pytest.fail(f"end-to-end tests need {missing or 'pulseaudio'}: run "
                        "scripts/install-system-deps.sh --with-test")
        self.desktop = VirtualDesktop.start(root / "desktop")
        self.mic = VirtualMic(root / "mic")
        self.daemon: DaemonProcess | None = None
        self.mic.start_server()
        self.daemon = DaemonProcess(root / "daemon", self.desktop, self.mic, {
            "hotkey": {"trigger": HOTKEY, "mode": "push-to-talk"}, "injection": {"method": "paste"}})
        self.daemon.start()
        self.window = self.desktop.open_target("editor")
        self.clips = {name: _speak(root / f"{name}.wav", text) for name, text in SPOKEN.items()}

    def use(self, method: str) -> None:
        """Switch the running daemon's injection method (a config reload)."""
        assert self.daemon is not None
        text = self.daemon.config_path.read_text(encoding="utf-8")
        for old in ("paste", "type"):
            text = text.replace(f'method = "{old}"', f'method = "{method}"')
        self.daemon.config_path.write_text(text, encoding="utf-8")
        self.daemon.cli("reload")

    def say(self, clip: Path) -> dict:
        """Hold the hotkey while the clip plays; return the daemon's status once it is idle again."""
        assert self.daemon is not None
        self.window.focus()
        dictations = self.daemon.status().get("dictations", 0)
        key_down(self.desktop, HOTKEY)
        self.mic.play(clip)
        key_up(self.desktop, HOTKEY)
        wait_until(lambda: self.daemon.status().get("dictations", 0) > dictations, 30.0,
                   "the dictation to end", interval=0.05)
        return self.daemon.wait_idle()

    def dictate(self, speech_dir: Path) -> str:
        before = self.window.text()
        self.say(speech_dir / CLIP)
        after = self.window.wait_for_change(before, settle=0.4)
        assert after.startswith(before) and len(after) > len(before) + 10, (before, after)
        return after

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()
        self.mic.stop()
        self.desktop.stop()


def _speak(path: Path, text: str) -> Path:
    subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(path)], check=True, timeout=30)
    audio, rate = sf.read(path, dtype="float32")
    silence = [np.zeros(round(s * rate), dtype=np.float32) for s in PAD_S]
    sf.write(path, np.concatenate([silence[0], audio, silence[1]]), rate)
    return path


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory):
    rig = Rig(tmp_path_factory.mktemp("edit-commands"))
    yield rig
    rig.stop()


@pytest.mark.parametrize("method", ["paste", "type"])
def test_scratch_that_takes_the_dictation_back_out(rig: Rig, speech_dir: Path, method: str) -> None:
    rig.use(method)
    before = rig.window.text()
    rig.dictate(speech_dir)
    status = rig.say(rig.clips["scratch"])
    assert rig.window.wait_for_text(before, timeout=10.0) == before
    assert status["last_command"].startswith("scratch: done: removed the previous dictation"), status
    assert rig.window.settled_text(0.5) == before


def test_scratch_refuses_after_the_user_typed(rig: Rig, speech_dir: Path) -> None:
    rig.use("paste")
    dictated = rig.dictate(speech_dir)
    rig.desktop.xdotool("type", "mine")
    typed = rig.window.wait_for_text(dictated + "mine")
    status = rig.say(rig.clips["scratch"])
    assert rig.window.settled_text(0.5) == typed
    assert status["last_command"].startswith("scratch: refused: "), status
    assert "you pressed keys or clicked since" in status["last_command"]
    history = rig.daemon.cli("history", "list", "--limit", "1").stdout if rig.daemon else ""
    assert "[command scratch: refused: " in history, history


def test_press_enter_puts_a_newline_in(rig: Rig) -> None:
    before = rig.window.text()
    status = rig.say(rig.clips["enter"])
    assert rig.window.wait_for_text(before + "\n") == before + "\n"
    assert status["last_command"] == "enter: done: pressed enter", status
