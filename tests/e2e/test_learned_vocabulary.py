"""Issue 10, part 4, done means: corrections learned from three corrected history entries fix the same word
in a new dictation. The real `onevox daemon` (bundled tiny.en) on Xvfb with a PulseAudio virtual microphone,
speech made with espeak-ng: tiny.en hears the synthetic "Kubernetes" as "Cubanites", "Cuba neat", "Qber
needs" ... Three dictations are corrected with `onevox history correct` (which goes to the running daemon
over IPC); two new dictations, in another voice, one of them a sentence never corrected, then come out with
"Kubernetes": through the learned substitution and the spelling the model is now primed with."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.daemon_proc import DaemonProcess
from tests.support.desktop import VirtualDesktop, missing_tools, wait_until
from tests.support.pulse import VirtualMic, pulse_available

pytestmark = [pytest.mark.e2e, pytest.mark.model]

WORD = "Kubernetes"
TEACH = [("en-gb", 150, "We deploy the service to Kubernetes every morning."),
         ("en-gb", 150, "Kubernetes runs the cluster for our team."),
         ("en-gb", 150, "Our team moved everything to Kubernetes last year.")]
NEW = [("en-us", 150, "Kubernetes runs the cluster for our team."),  # another voice
       ("en-us", 140, "I think Kubernetes is down again today.")]  # another voice and a new sentence


def _speak(folder: Path, name: str, voice: str, speed: int, text: str) -> Path:
    path = folder / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True,
                   timeout=30)
    return path


class Session:
    def __init__(self, root: Path) -> None:
        missing = missing_tools(("xclip",)) + ([] if shutil.which("espeak-ng") else ["espeak-ng"])
        if missing or not pulse_available():
            pytest.fail(f"this test needs {missing or 'pulseaudio'}: run scripts/install-system-deps.sh "
                        "--with-test")
        self.desktop = VirtualDesktop.start(root / "desktop")
        self.mic = VirtualMic(root / "mic")
        self.mic.start_server()
        self.daemon = DaemonProcess(root / "daemon", self.desktop, self.mic, {
            "hotkey": {"backend": "none"}, "injection": {"method": "paste"},
            "vocabulary": {"learn": "apply", "min_count": 2}})
        self.daemon.start()
        self.window = self.desktop.open_target("editor")

    def dictate(self, clip: Path) -> tuple[int, str]:
        """One dictation over IPC; the history id it got and the text that appeared in the window."""
        self.window.focus()
        before = self.window.text()
        self.daemon.cli("start-dictation")
        self.mic.play(clip)
        time.sleep(0.2)
        self.daemon.cli("stop-dictation")
        wait_until(lambda: self.window.text() != before, 30.0, "the dictated text in the window", 0.01)
        after = self.window.wait_for_change(before, timeout=5.0, settle=0.4)
        self.daemon.wait_idle()
        [entry] = json.loads(self.daemon.cli("history", "list", "--json", "--limit", "1").stdout)
        return int(entry["id"]), after[len(before):] if after.startswith(before) else after

    def close(self) -> None:
        self.daemon.stop()
        self.mic.stop()
        self.desktop.stop()


def test_three_corrections_fix_the_word_in_new_dictations(tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    teach = [_speak(clips, f"teach{i}", *spec) for i, spec in enumerate(TEACH)]
    new = [_speak(clips, f"new{i}", *spec) for i, spec in enumerate(NEW)]
    session = Session(tmp_path)
    try:
        before = [session.dictate(clip)[1] for clip in new]
        assert all(WORD not in text for text in before), before  # what tiny.en hears without learning

        # all three dictated first: once two are corrected the model is primed, and the third comes out right
        taught = [session.dictate(clip) for clip in teach]
        assert all(WORD not in heard for _entry, heard in taught), taught
        for (entry, _heard), (_voice, _speed, spoken) in zip(taught, TEACH, strict=True):
            done = session.daemon.cli("history", "correct", str(entry), spoken, "--json")
            assert json.loads(done.stdout)["history_id"] == entry
        assert spoken in session.daemon.cli("history", "show", str(entry)).stdout

        rules = json.loads(session.daemon.cli("vocabulary", "list", "--json").stdout)
        # tiny.en mishears the word differently from clip to clip (and from run to run: the capture is not
        # bit-exact), so each substitution may be seen only once, and a dictation heard too far off teaches
        # no word-level fix at all; the spelling corrected min_count (2) times is what primes the decoder
        print(f"taught: {taught}")
        assert sum(rule["support"] for rule in rules if rule["right"] == WORD) >= 2, rules

        after = [session.dictate(clip)[1] for clip in new]
        print(f"before learning: {before}\nlearned: {[(r['wrong'], r['right'], r['state']) for r in rules]}\n"
              f"after learning:  {after}")
        assert all(WORD in text for text in after), after
    finally:
        session.close()
