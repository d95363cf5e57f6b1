"""Whole dictations on a headless GNOME Shell 43 session started by the user's own keyboard shortcut, as a
GNOME user sets it up: `onevox doctor`, run in the session, prints gsettings lines for the configured
trigger; those lines are run as printed; the trigger pressed on the seat's keyboard (Mutter's RemoteDesktop
virtual keyboard) makes GNOME Shell report the accelerator to gnome-settings-daemon's media-keys plugin,
which runs `onevox toggle` (found on the user's PATH, reading the user's ~/.config/onevox/config.toml). No
start or stop command comes from the test: the real daemon (bundled model, `[hotkey] backend = "auto"`,
which finds no global hotkey on GNOME 43) hears only what GNOME ran. Speech is played into a PulseAudio
virtual microphone between the two presses, and the words are read back from a GTK3 window.

Printed: the time from the second chord to the text in the window, from its keys going down (GNOME runs
the command then, so this includes starting `onevox toggle`, a Python process) and from their release
(the chord is held 50 ms).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

import onevox
from onevox.desktop.bindings import GNOME_PATH, GNOME_SCHEMA
from tests.support.daemon_proc import DaemonProcess
from tests.support.desktop import wait_until
from tests.support.gnome_shell import CONTROL_L, F9, SHIFT_L, HeadlessGnomeShell, missing_programs
from tests.support.gtk_window import GtkWindow
from tests.support.pulse import VirtualMic
from tests.support.requirements import INSTALL_HINT, require_pulse
from tests.support.wer import word_errors

pytestmark = [pytest.mark.e2e, pytest.mark.model]

MAX_WER = 0.25
TRIGGER = "ctrl+shift+f9"  # not the default: doctor's lines must follow the configured trigger
CHORD = [CONTROL_L, SHIFT_L, F9]  # the same keys, as the fingers press them
KEY = f"{GNOME_SCHEMA}.custom-keybinding:{GNOME_PATH}"
EXPECTED_LINES = [f"gsettings set {GNOME_SCHEMA} custom-keybindings \"['{GNOME_PATH}']\"",
                  f"gsettings set {KEY} name 'onevox'",
                  f"gsettings set {KEY} command 'onevox toggle'",
                  f"gsettings set {KEY} binding '<Control><Shift>F9'"]


def install_onevox(bin_dir: Path, calls: Path) -> None:
    """`onevox` on the user's PATH: the code under test, run by this Python; each run is noted in `calls`
    (so the test knows GNOME ran it, and how often)."""
    bin_dir.mkdir()
    src = Path(onevox.__file__).resolve().parents[1]
    script = bin_dir / "onevox"
    script.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n'
                      f'PYTHONPATH={src} exec {sys.executable} -m onevox "$@"\n', encoding="utf-8")
    script.chmod(0o755)


class ShortcutDictation:
    def __init__(self, shell: HeadlessGnomeShell, mic: VirtualMic, daemon: DaemonProcess, window: GtkWindow,
                 calls: Path) -> None:
        self.shell, self.mic, self.daemon, self.window, self.calls = shell, mic, daemon, window, calls
        self.latencies_ms: list[tuple[float, float]] = []  # (second press, its release) to text

    def toggles(self) -> int:
        text = self.calls.read_text(encoding="utf-8") if self.calls.exists() else ""
        return text.splitlines().count("toggle")

    def press(self, state: str) -> float:
        """Press the chord; wait until GNOME has run `onevox toggle` and the daemon is in `state`."""
        before = self.toggles()
        released = self.shell.press_chord(CHORD)
        wait_until(lambda: self.toggles() > before, 10, "GNOME to run `onevox toggle`",
                   interval=0.005)
        wait_until(lambda: self.daemon.status().get("state") == state, 10, f"the daemon to be {state}",
                   interval=0.02)
        return released

    def dictate(self, clip: Path) -> str:
        before = self.window.text()
        toggles = self.toggles()
        self.press("recording")
        self.mic.play(clip)
        pressed = time.monotonic()
        released = self.shell.press_chord(CHORD)
        deadline = time.monotonic() + 30
        while self.window.text() == before:
            assert time.monotonic() < deadline, f"no text arrived; daemon log:\n{self.daemon.log()[-3000:]}"
            time.sleep(0.002)
        arrived = time.monotonic()
        self.latencies_ms.append(((arrived - pressed) * 1000, (arrived - released) * 1000))
        after = self.window.settled_text(0.4)
        self.daemon.wait_idle()
        assert self.toggles() == toggles + 2, "GNOME ran `onevox toggle` once per press"
        return after[len(before):]


def run_doctor(env: dict[str, str], cwd: Path) -> dict:
    """`onevox doctor --json` as the user types it in a terminal of the session: nothing essential missing."""
    done = subprocess.run(["onevox", "doctor", "--json"], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    plain = subprocess.run(["onevox", "doctor"], env=env, cwd=cwd, capture_output=True, text=True,
                           timeout=60, check=False)
    print(f"\n--- onevox doctor in GNOME Shell\n{plain.stdout}")
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ShortcutDictation, dict]]:
    missing = missing_programs()
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}; {INSTALL_HINT}")
    require_pulse()
    root = tmp_path_factory.mktemp("gnome-shell-shortcut")
    began = time.monotonic()
    with HeadlessGnomeShell.start() as shell:
        print(f"\nGNOME Shell started in {shell.started_s:.1f} s")
        calls = root / "onevox-calls"
        install_onevox(root / "bin", calls)
        mic = VirtualMic(root / "mic")
        mic.start_server()
        try:
            # the session's sound server is the virtual microphone's
            sound = {"PULSE_SERVER": mic.env["PULSE_SERVER"]}
            user = {**shell.user_env(root / "bin"), "LANG": "C.UTF-8", **sound}
            daemon = DaemonProcess(root / "daemon", SimpleNamespace(env=shell.child_env()), mic, {  # type: ignore[arg-type]
                "hotkey": {"backend": "auto", "trigger": TRIGGER},
                "injection": {"method": "auto"},
                "post_processing": {"replacements": {"meters": "mètres 📏"}},
            })
            daemon.env["XDG_RUNTIME_DIR"] = str(shell.runtime)
            config = shell.home / ".config" / "onevox" / "config.toml"  # where `onevox toggle` looks
            config.parent.mkdir(parents=True)
            shutil.copyfile(daemon.config_path, config)
            shell.start_media_keys(user)
            window = shell.open_target("editor")
            daemon.start()
            try:
                report = run_doctor(user, shell.home)
                shell.gsettings_applied(user, report["hotkey"].get("bindings", []), GNOME_PATH)
                print(f"rig ready in {time.monotonic() - began:.1f} s")
                dictation = ShortcutDictation(shell, mic, daemon, window, calls)
                yield dictation, report
                print("\nGNOME Shell shortcut dictation, chord pressed / released to text: "
                      + ", ".join(f"{down:.0f} / {up:.0f} ms" for down, up in dictation.latencies_ms))
            finally:
                daemon.stop()
        finally:
            mic.stop()


def test_doctor_prints_the_custom_shortcut_for_the_trigger(session: tuple[ShortcutDictation, dict]) -> None:
    dictation, report = session
    desktop = report["desktop"]
    assert (desktop["session"], desktop["family"]) == ("wayland", "gnome"), desktop
    assert report["missing"] == [], report["missing"]
    hotkey = report["hotkey"]
    assert (hotkey["status"], hotkey["backend"]) == ("setup", "compositor binding"), hotkey
    assert hotkey["bindings"] == EXPECTED_LINES, hotkey["bindings"]
    assert "or hold them while you speak" in hotkey["where"], hotkey["where"]  # repeats are one hold
    assert "GlobalShortcuts" in (hotkey["reason"] or ""), hotkey
    assert report["injection"]["summary"] == "auto: remote-desktop first", report["injection"]
    # the daemon, like doctor, found no hotkey of its own: only GNOME's shortcut can drive it
    assert "no global hotkey" in dictation.daemon.log()


def test_shortcut_dictation_arrives(session: tuple[ShortcutDictation, dict], speech_dir: Path,
                                    speech_manifest: list[dict]) -> None:
    dictation, _ = session
    reference = next(c["text"] for c in speech_manifest if c["id"] == "arctic-a0024")
    text = dictation.dictate(speech_dir / "arctic-a0024.wav")
    assert word_errors(reference, text).wer <= MAX_WER, text
    assert dictation.daemon.status().get("injector") == "remote-desktop"


def test_shortcut_dictation_with_unicode_replacement(session: tuple[ShortcutDictation, dict],
                                                     speech_dir: Path) -> None:
    dictation, _ = session
    text = dictation.dictate(speech_dir / "ps-goforward.wav")
    assert "mètres 📏" in text, text


def test_a_held_shortcut_talks_while_held(session: tuple[ShortcutDictation, dict], speech_dir: Path,
                                          speech_manifest: list[dict]) -> None:
    """GNOME runs `onevox toggle` on every key repeat of the held chord (dozens of runs); the daemon takes the
    repeats as one hold: it records while the chord is down and is idle after it is let go. Taken one by
    one, the runs would leave it recording or not by chance, after dozens of dictations. How many pieces a
    hold makes, and so how well its words come out, depends on how evenly GNOME Shell spaces the repeats,
    which a busy machine upsets (docs/gnome.md): the WER is printed, not held to a bound."""
    import threading

    import soundfile

    dictation, _ = session
    clip = speech_dir / "arctic-a0024.wav"
    reference = next(c["text"] for c in speech_manifest if c["id"] == "arctic-a0024")
    before, toggles = dictation.window.text(), dictation.toggles()
    dictations = dictation.daemon.status()["dictations"]
    hold_s = soundfile.info(str(clip)).duration + 0.8
    released: list[float] = []
    holder = threading.Thread(target=lambda: released.append(dictation.shell.press_chord(CHORD, hold_s)))
    holder.start()
    wait_until(lambda: dictation.daemon.status().get("state") == "recording", 10, "the daemon to record",
               interval=0.02)
    dictation.mic.play(clip)
    holder.join(hold_s + 30)
    assert released, "the chord was never let go"
    try:
        wait_until(lambda: dictation.daemon.status().get("state") == "idle", 30,
                   "the daemon to stop when the chord is let go", interval=0.02)
    except TimeoutError:
        raise AssertionError(f"{dictation.daemon.status()}\n{dictation.daemon.log()[-4000:]}") from None
    stopped = time.monotonic()
    text = dictation.window.settled_text(0.5)[len(before):]
    runs = dictation.toggles() - toggles
    pieces = dictation.daemon.status()["dictations"] - dictations
    wer = word_errors(reference, text).wer
    print(f"\nheld chord: GNOME ran `onevox toggle` {runs} times; {pieces} dictation(s); idle "
          f"{(stopped - released[0]) * 1000:.0f} ms after the release; WER {wer:.2f}: {text!r}")
    assert runs > 10, f"GNOME ran `onevox toggle` {runs} times: the chord did not repeat"
    # taken one by one, the runs would make about one dictation per two runs
    assert 1 <= pieces <= 4, f"{pieces} dictations from one held chord ({runs} runs)"
    time.sleep(1.0)  # late runs of the hold must not start anything
    assert dictation.daemon.status().get("state") == "idle"
