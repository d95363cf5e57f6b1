"""The recording indicator on a Wayland desktop: headless sway (with Xwayland), the real `onevox daemon` as
the desktop's user, and a Wayland-native GTK3 window with the focus.

- `indicator = "auto"` picks the layer-shell surface (GTK + gtk-layer-shell in a helper process): seen in a
  screenshot (grim) as the recording colour at the bottom of the output while recording, gone afterwards.
- `indicator = "x11"` shows the X11 window through Xwayland (an override-redirect window of type
  notification, input=False), read with xprop/xwininfo.

In both, keys typed while the indicator shows still reach the GTK window, sway's focus never moves, and the
dictated words land."""

from __future__ import annotations

import glob
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.support.daemon_proc import DaemonProcess
from tests.support.desktop import wait_until
from tests.support.gtk_window import GtkWindow
from tests.support.pulse import VirtualMic
from tests.support.requirements import require_program, require_pulse
from tests.support.wayland import SwaySession, require_sway
from tests.support.wer import clip_errors

pytestmark = [pytest.mark.e2e, pytest.mark.model]

X_SOCKETS = "/tmp/.X11-unix/X*"
RECORDING_RGB = (0xB0, 0x20, 0x20)  # layer_shell_window.COLOURS["recording"]
TYPED = "typed meanwhile "


class Desktop:
    def __init__(self, sway: SwaySession, mic: VirtualMic) -> None:
        self.sway, self.mic = sway, mic

    def x(self, *argv: str) -> str:
        """An X client run as the desktop's user on sway's Xwayland."""
        return self.sway.run(list(argv), check=False).stdout.decode()

    def recording_pixels(self, name: str) -> int:
        """How many pixels of the bottom 150 rows of the output have the recording colour (grim)."""
        shot = self.sway.root / f"{name}.png"
        self.sway.run(["grim", str(shot)])
        raw = subprocess.run(["convert", str(shot), "rgb:-"], capture_output=True, check=True).stdout
        width = int(subprocess.run(["identify", "-format", "%w", str(shot)], capture_output=True,
                                   check=True).stdout)
        pixels = np.frombuffer(raw, np.uint8).reshape(-1, width, 3)[-150:]
        return int(np.all(pixels == RECORDING_RGB, axis=-1).sum())


@pytest.fixture(scope="module")
def desktop() -> Iterator[Desktop]:
    require_sway()
    require_pulse()
    for program in ("Xwayland", "xdotool", "xwininfo", "xprop", "grim", "convert", "identify"):
        require_program(program)
    before = set(glob.glob(X_SOCKETS))
    sway = SwaySession.start(extra_config="xwayland force\n")  # the base config's "disable" is overridden
    mic = VirtualMic(sway.root, as_user=sway.user.ids)
    try:
        uid = sway.user.ids[0]
        socket = wait_until(lambda: next((s for s in set(glob.glob(X_SOCKETS)) - before
                                          if os.stat(s).st_uid == uid), None), 20.0, "sway's Xwayland")
        sway.env["DISPLAY"] = ":" + str(socket).rsplit("X", 1)[1]
        mic.start_server()
        yield Desktop(sway, mic)
    finally:
        mic.stop()
        sway.stop()


def _daemon(desktop: Desktop, indicator: str) -> DaemonProcess:
    daemon = DaemonProcess(desktop.sway.root / f"daemon-{indicator}", desktop.sway, desktop.mic, {  # type: ignore[arg-type]
        "hotkey": {"backend": "none"}, "injection": {"method": "wtype"},
        "feedback": {"indicator": indicator, "sounds": True},
    }, as_user=desktop.sway.user.ids)
    daemon.start()
    return daemon


def _dictate(desktop: Desktop, daemon: DaemonProcess, window: GtkWindow, speech_dir: Path,
             shown: object, hidden: object, speech_manifest: list[dict]) -> None:
    """start-dictation, wait until `shown()`, type meanwhile, speak, stop-dictation, wait for the words and
    `hidden()`; the focus stays on `window` throughout."""
    sway = desktop.sway
    daemon.cli("start-dictation")
    wait_until(shown, 5.0, "the indicator to show 'recording'")  # type: ignore[arg-type]
    assert sway.focused_title() == window.title
    sway.run(["wtype", TYPED])  # the keyboard still goes to the GTK window
    window.wait_for_text(TYPED)
    desktop.mic.play(speech_dir / "ps-goforward.wav")
    daemon.cli("stop-dictation")
    text = window.wait_for_change(TYPED, timeout=30.0, settle=0.4)
    wait_until(hidden, 5.0, "the indicator to hide")  # type: ignore[arg-type]
    assert sway.focused_title() == window.title
    clip = next(c for c in speech_manifest if c["id"] == "ps-goforward")
    assert text.startswith(TYPED)
    assert clip_errors(clip, text[len(TYPED):]).wer <= 0.25, text


def test_a_layer_shell_surface_on_sway(desktop: Desktop, speech_dir: Path,
                                       speech_manifest: list[dict]) -> None:
    daemon = _daemon(desktop, "auto")
    try:
        window = desktop.sway.open_target("editor")
        wait_until(lambda: "recording indicator: a layer-shell surface on wayland-" in daemon.log(), 10.0,
                   "the daemon to say it shows a layer-shell indicator")
        assert desktop.recording_pixels("idle-before") == 0
        _dictate(desktop, daemon, window, speech_dir,
                 lambda: "indicator: shown recording recording" in daemon.log()
                 and desktop.recording_pixels("recording") > 500,
                 lambda: desktop.recording_pixels("idle-after") == 0, speech_manifest)
        assert "indicator: hidden" in daemon.log()
    finally:
        daemon.stop()


def test_the_x11_window_through_xwayland(desktop: Desktop, speech_dir: Path,
                                         speech_manifest: list[dict]) -> None:
    daemon = _daemon(desktop, "x11")
    try:
        window = desktop.sway.open_target("editor")
        # The indicator opens its X connection on its own thread, after the daemon says it is ready.
        wait_until(lambda: "recording indicator on X display" in daemon.log(), 10.0,
                   "the daemon to say it shows an X11 indicator")
        found = desktop.x("xdotool", "search", "--classname", "^onevox-indicator$").split()
        assert found, "no indicator window on Xwayland"
        wid = found[0]

        def mapped() -> bool:
            return "IsViewable" in desktop.x("xwininfo", "-id", wid)

        def state() -> str:
            found = desktop.x("xprop", "-id", wid, "-notype", "_ONEVOX_STATE")
            return found.partition(" = ")[2].strip('"\n ')

        assert not mapped()
        _dictate(desktop, daemon, window, speech_dir, lambda: mapped() and state() == "recording",
                 lambda: not mapped(), speech_manifest)
        assert "Override Redirect State: yes" in desktop.x("xwininfo", "-id", wid)
    finally:
        daemon.stop()
