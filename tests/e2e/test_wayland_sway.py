"""Whole dictations on a wlroots desktop, exactly as a sway user does them: headless sway whose config binds
ctrl+shift+space to `onevox start-dictation` (press, --no-repeat) and `onevox stop-dictation` (--release), the
chord held through a virtual keyboard, speech played into a PulseAudio virtual microphone meanwhile, the real
`onevox daemon` (bundled model) typing with wtype or pasting with wl-copy + wtype into a focused GTK3 window,
whose text is read back and scored against the clip's reference transcript.

Everything on the desktop runs as an ordinary test user (tests/support/wayland.py says why and how). The
median time from key release to text in the window is printed per method and kept in .test-artifacts/.
"""

from __future__ import annotations

import json
import shlex
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf

from tests.support.daemon_proc import DaemonProcess
from tests.support.desktop import wait_until
from tests.support.gtk_window import GtkWindow
from tests.support.pulse import VirtualMic
from tests.support.requirements import require_pulse
from tests.support.wayland import SwaySession, require_sway
from tests.support.wer import clip_errors, corpus_wer

pytestmark = [pytest.mark.e2e, pytest.mark.model]

HOTKEY = "ctrl+shift+space"  # push-to-talk: start-dictation on press, stop-dictation on release
TOGGLE = "ctrl+alt+d"  # `onevox toggle`
REPLACEMENT = {"meters": "mètres 📏"}  # as the X11 e2e: accents and an emoji (outside the BMP)
PER_CLIP_WER = 0.25  # as tests/daemon/test_daemon_e2e.py allows a single short clip
CORPUS_WER = 0.15
LEAD_S = 0.5  # from the key press to the first sound of the clip
TAIL_S = 0.15  # keys held after the clip's length (paplay's start-up takes a few ms of it)
SETTLE_S = 0.4  # the text is complete once it has not changed for this long
ARTIFACTS = Path(__file__).resolve().parents[2] / ".test-artifacts"


def onevox_command() -> str:
    """What the binding runs: the installed `onevox` script next to our interpreter (what a user has on
    PATH), else `python -m onevox`."""
    script = Path(sys.executable).parent / "onevox"
    if script.exists():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m onevox"


class Rig:
    def __init__(self, sway: SwaySession, mic: VirtualMic, daemon: DaemonProcess, window: GtkWindow) -> None:
        self.sway, self.mic, self.daemon, self.window = sway, mic, daemon, window
        self.method = "wtype"
        self.command = self.config = ""  # the bound onevox command and its --config argument
        self.latencies_ms: dict[str, list[float]] = {"wtype": [], "paste": []}  # release -> first text
        self.complete_ms: dict[str, list[float]] = {"wtype": [], "paste": []}  # release -> all the text
        self.release_after_speech_ms: list[float] = []  # paplay done -> keys up
        self.scored: list[tuple[dict, str]] = []

    def use(self, method: str) -> None:
        """Switch the running daemon's injection method: edit its config file, `onevox reload`."""
        if method == self.method:
            return
        config = self.daemon.config_path
        config.write_text(config.read_text(encoding="utf-8").replace(f'method = "{self.method}"',
                                                                        f'method = "{method}"'),
                          encoding="utf-8")
        out = self.daemon.cli("reload").stdout
        # the daemon also reloads by itself on the save; whichever came first applied the change
        applied = [line for line in self.daemon.log().splitlines() if "config reloaded: applied" in line]
        assert "injection" in out or any("injection.method" in line for line in applied), out
        self.method = method

    def dictate(self, clip: Path, toggle_keys: str | None = None) -> str:
        """Hold the hotkey, speak the clip, release shortly after it ends, as a user does (or with
        `toggle_keys`: tap them, speak, tap them again); the text that appeared in the window. Records the
        times from release to the first and to the last of the text."""
        self.window.focus()
        before = self.window.text()
        duration = sf.info(str(clip)).duration
        if toggle_keys:
            self.sway.tap_chord(toggle_keys)
            time.sleep(LEAD_S)
            self.mic.play(clip)
            played = time.monotonic()
            time.sleep(TAIL_S)
            released = self.sway.tap_chord(toggle_keys)
        else:
            chord = self.sway.hold_chord(HOTKEY, LEAD_S + duration + TAIL_S)
            time.sleep(LEAD_S)  # the bound `onevox start-dictation` runs meanwhile (pre-roll covers lateness)
            self.mic.play(clip)
            played = time.monotonic()
            assert chord.poll() is None, ("the keys came up before the clip ended (paplay started over "
                                          f"{TAIL_S * 1000:.0f} ms late): the machine is too busy for this")
            released = self.sway.wait_released(chord)
        try:
            wait_until(lambda: self.window.text() != before, 30.0, "the dictated text in the window", 0.002)
        except TimeoutError:
            raise AssertionError(self._report("no text arrived in the window")) from None
        first = time.monotonic()
        after, last = self._settled(before)
        self.latencies_ms[self.method].append((first - released) * 1000)
        self.complete_ms[self.method].append((last - released) * 1000)
        self.release_after_speech_ms.append((released - played) * 1000)
        status = self.daemon.wait_idle()
        assert status["state"] == "idle", self._report(f"daemon ended in {status}")
        return after[len(before):] if after.startswith(before) else after

    def _settled(self, before: str) -> tuple[str, float]:
        """The window's text once it has not changed for SETTLE_S, and when it last changed."""
        text, changed = self.window.text(), time.monotonic()
        while time.monotonic() - changed < SETTLE_S:
            time.sleep(0.002)
            now = self.window.text()
            if now != text:
                text, changed = now, time.monotonic()
        return text, changed

    def score(self, clip: dict, text: str) -> None:
        errors = clip_errors(clip, text)
        self.scored.append((clip, text))
        print(f"\n[{self.method}] {clip['id']}: {text!r} WER {errors.wer:.2f}, "
              f"{self.latencies_ms[self.method][-1]:.0f} ms after release")
        assert errors.wer <= PER_CLIP_WER, f"{text!r} vs {clip['text']!r} (WER {errors.wer:.2f})"

    def _report(self, what: str) -> str:
        shot = self.sway.screenshot(ARTIFACTS / "sway-failure.png") if ARTIFACTS.is_dir() else None
        return (f"{what}; window holds {self.window.text()!r}; screenshot {shot}\n"
                f"daemon log:\n{self.daemon.log()[-3000:]}\nsway log:\n{self.sway.log()[-1500:]}")


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    require_sway()
    require_pulse()
    sway = SwaySession.start()  # in its own temporary folder, which the test user can reach
    mic = VirtualMic(sway.root, as_user=sway.user.ids)  # the same home and run folders as the desktop
    daemon: DaemonProcess | None = None
    try:
        mic.start_server()
        daemon = DaemonProcess(sway.root / "daemon", sway, mic, {  # type: ignore[arg-type]
            "hotkey": {"backend": "none"},  # Wayland: the compositor's binding is the hotkey
            "injection": {"method": "wtype"},
            "post_processing": {"replacements": REPLACEMENT},
        }, as_user=sway.user.ids)
        command = onevox_command()
        config = shlex.quote(str(daemon.config_path))
        sway.bind(f"--no-repeat {HOTKEY}", f"{command} start-dictation --config {config}")
        sway.bind(f"--release {HOTKEY}", f"{command} stop-dictation --config {config}")
        daemon.start()
        window = sway.open_target("editor")
        rig = Rig(sway, mic, daemon, window)
        rig.command, rig.config = command, config
        yield rig
    finally:
        if daemon is not None:
            daemon.stop()
        mic.stop()
        sway.stop()


@pytest.fixture(scope="module")
def clips(speech_manifest: list[dict]) -> dict[str, dict]:
    return {clip["id"]: clip for clip in speech_manifest}


@pytest.mark.parametrize("method", ["wtype", "paste"])  # typing with wtype; pasting with wl-copy + wtype
def test_dictations(rig: Rig, speech_dir: Path, clips: dict[str, dict], method: str) -> None:
    """Two clips scored, then one whose replacement brings accents and an emoji, which must arrive intact."""
    rig.use(method)
    for name in ("arctic-a0024", "ps-cards-005"):
        rig.score(clips[name], rig.dictate(speech_dir / f"{name}.wav"))
    text = rig.dictate(speech_dir / "ps-goforward.wav")
    assert "mètres 📏" in text, text


def test_toggle_binding(rig: Rig, speech_dir: Path, clips: dict[str, dict]) -> None:
    """The README's simplest sway setup: one key bound to `onevox toggle`, tapped before and after."""
    rig.use("paste")
    rig.sway.bind(f"--no-repeat {TOGGLE}", f"{rig.command} toggle --config {rig.config}")
    name = "ls-61-70968-0000"
    rig.score(clips[name], rig.dictate(speech_dir / f"{name}.wav", toggle_keys=TOGGLE))


def test_accuracy_and_release_to_text_latency(rig: Rig) -> None:
    """The scored dictations together, and the median time from key release to text per method."""
    assert len(rig.scored) >= 5, "the dictation tests above did not run"
    wer = corpus_wer([clip_errors(clip, text) for clip, text in rig.scored])
    medians = {m: statistics.median(v) for m, v in rig.latencies_ms.items() if v}
    complete = {m: statistics.median(v) for m, v in rig.complete_ms.items() if v}
    after_speech = statistics.median(rig.release_after_speech_ms)
    print(f"\nsway: corpus WER {wer:.3f} over {len(rig.scored)} dictations; keys released a median "
          f"{after_speech:.0f} ms after the speech; release-to-text median: "
          + "; ".join(f"{m} {ms:.0f} ms to the first text, {complete[m]:.0f} ms to all of it "
                      f"(n={len(rig.latencies_ms[m])})" for m, ms in medians.items()))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "e2e-latency-sway.json").write_text(json.dumps(
        {"first_text_ms": rig.latencies_ms, "complete_text_ms": rig.complete_ms,
         "release_after_speech_ms": rig.release_after_speech_ms}))
    assert wer <= CORPUS_WER
    assert set(medians) == {"wtype", "paste"}
