"""Whole dictations on headless GNOME Mutter 43: the real `onevox daemon` (bundled model, injection
method `auto`) on Mutter's Wayland display and session bus, speech played into a PulseAudio virtual microphone
between `onevox start-dictation` and `stop-dictation`, and the words read back from a GTK3 window. `auto`
tries wtype first, which GNOME refuses (no virtual-keyboard protocol), and delivers through remote-desktop."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support.daemon_proc import DaemonProcess
from tests.support.gnome import HeadlessGnome, missing_programs
from tests.support.gtk_window import GtkWindow
from tests.support.pulse import VirtualMic
from tests.support.requirements import INSTALL_HINT, require_pulse
from tests.support.wer import word_errors

pytestmark = [pytest.mark.e2e, pytest.mark.model]

MAX_WER = 0.25


class GnomeDictation:
    def __init__(self, gnome: HeadlessGnome, mic: VirtualMic, daemon: DaemonProcess, window: GtkWindow):
        self.gnome, self.mic, self.daemon, self.window = gnome, mic, daemon, window
        self.latencies_ms: list[float] = []

    def dictate(self, clip: Path) -> str:
        before = self.window.text()
        self.daemon.cli("start-dictation")
        self.mic.play(clip)
        released = time.monotonic()
        self.daemon.cli("stop-dictation")
        deadline = time.monotonic() + 30
        while self.window.text() == before:
            assert time.monotonic() < deadline, f"no text arrived; daemon log:\n{self.daemon.log()[-3000:]}"
            time.sleep(0.002)
        self.latencies_ms.append((time.monotonic() - released) * 1000)
        after = self.window.settled_text(0.4)
        self.daemon.wait_idle()
        return after[len(before):]


@pytest.fixture(scope="module")
def dictation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GnomeDictation]:
    missing = missing_programs()
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}; {INSTALL_HINT}")
    require_pulse()
    root = tmp_path_factory.mktemp("gnome-dictation")
    with HeadlessGnome.start() as gnome:
        mic = VirtualMic(root / "mic")
        mic.start_server()
        try:
            desktop = SimpleNamespace(env=gnome.child_env())
            daemon = DaemonProcess(root / "daemon", desktop, mic, {  # type: ignore[arg-type]
                "hotkey": {"backend": "none"},
                "injection": {"method": "auto"},
                "post_processing": {"replacements": {"meters": "mètres 📏"}},
            })
            # the mic's server is found by PULSE_SERVER; Wayland clients (wtype) need Mutter's runtime dir
            daemon.env["XDG_RUNTIME_DIR"] = str(gnome.runtime)
            window = gnome.open_target("editor")
            daemon.start()
            try:
                session = GnomeDictation(gnome, mic, daemon, window)
                yield session
                print(f"\nGNOME dictation, release to text: {[round(ms) for ms in session.latencies_ms]} ms")
            finally:
                daemon.stop()
        finally:
            mic.stop()


def test_dictation_arrives_through_remote_desktop(dictation: GnomeDictation, speech_dir: Path,
                                                   speech_manifest: list[dict]) -> None:
    reference = next(c["text"] for c in speech_manifest if c["id"] == "arctic-a0024")
    text = dictation.dictate(speech_dir / "arctic-a0024.wav")
    assert word_errors(reference, text).wer <= MAX_WER, text
    assert dictation.daemon.status().get("injector") == "remote-desktop"  # auto names the method it used


def test_unicode_from_a_replacement_arrives_whole(dictation: GnomeDictation, speech_dir: Path) -> None:
    text = dictation.dictate(speech_dir / "ps-goforward.wav")
    assert "mètres 📏" in text, text
