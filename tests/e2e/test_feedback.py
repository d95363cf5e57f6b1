"""The answer to "is it listening?", end to end on a virtual desktop: the real daemon (in this process, so a
test can publish a "partial" event on its bus), the bundled model, a PulseAudio virtual microphone and a
focused Tk window.

- The recording indicator appears while the hotkey is held (an override-redirect window that says
  "recording"), shows the live words of a "partial" event, hides once the text is typed, and the focus
  (`xdotool getwindowfocus`) never leaves the Tk window, which still receives the dictated words.
- The start tone reaches the speakers (recorded from the null sink's monitor with parec: energy at its two
  notes, rising) and the capture starts as fast with the sounds on as with them off (the pipeline's "hotkey"
  timing: start command to capture begun; and the key press to the "recording_started" event).
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from onevox.audio.devices import refresh_devices
from onevox.config import load_config
from onevox.daemon.app import Daemon
from onevox.feedback.sound import TONES
from tests.daemon.conftest import EventLog
from tests.support.daemon_proc import key_down, key_up, toml_config
from tests.support.desktop import VirtualDesktop, wait_until
from tests.support.pulse import SPEAKERS, VirtualMic
from tests.support.requirements import require_tools
from tests.support.wer import clip_errors

pytestmark = [pytest.mark.e2e, pytest.mark.model]

HOTKEY = "ctrl+shift+space"
RATE = 48000
ARTIFACTS = Path(__file__).resolve().parents[2] / ".test-artifacts"


class Rig:
    def __init__(self, root: Path, desktop: VirtualDesktop, mic: VirtualMic, daemon: Daemon,
                 config_path: Path, sections: dict[str, dict[str, Any]]) -> None:
        self.root, self.desktop, self.mic, self.daemon = root, desktop, mic, daemon
        self.config_path, self.sections = config_path, sections
        self.window = desktop.open_target("editor")
        self.log = EventLog(daemon.bus)

    def indicator(self) -> str:
        """The indicator's window id ('' when there is none)."""
        done = self.desktop.run(["xdotool", "search", "--classname", "^onevox-indicator$"], check=False)
        return done.stdout.decode().split()[0] if done.returncode == 0 and done.stdout.strip() else ""

    def prop(self, wid: str, name: str) -> str:
        out = self.desktop.run(["xprop", "-id", wid, "-notype", name], check=False).stdout.decode()
        _, _, value = out.partition(" = ")
        return value.strip().strip('"')

    def mapped(self, wid: str) -> bool:
        return "IsViewable" in self.desktop.run(["xwininfo", "-id", wid]).stdout.decode()

    def focus(self) -> str:
        return self.desktop.xdotool("getwindowfocus").strip()

    def set_feedback(self, **values: Any) -> None:
        self.sections["feedback"] = {**self.sections.get("feedback", {}), **values}
        self.config_path.write_text(toml_config(self.sections), encoding="utf-8")
        result = self.daemon.reload()
        assert result["reloaded"] and not result["restart_needed"], result


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    require_tools(("xclip", "xprop", "xwininfo", "parec"), pulse=True)
    root = tmp_path_factory.mktemp("feedback")
    mic = VirtualMic(root / "pulse")
    mic.start_server()
    desktop = VirtualDesktop.start(root / "x", repeat=False)
    sections: dict[str, dict[str, Any]] = {
        "hotkey": {"trigger": HOTKEY, "mode": "push-to-talk", "backend": "x11"},
        "injection": {"method": "paste"},
        "history": {"path": str(root / "history.sqlite3")},
        "daemon": {"socket": str(root / "run" / "onevox.sock"), "log_level": "debug"},
        "feedback": {"sounds": True, "sound_volume": 0.5, "indicator": "auto"},
    }
    config_path = root / "onevox.toml"
    config_path.write_text(toml_config(sections), encoding="utf-8")
    try:
        with desktop.activated(), mic.activated():
            refresh_devices()  # PortAudio only sees a sound server started after it was loaded
            daemon = Daemon(load_config(config_path), config_path=config_path)
            daemon.start()
            try:
                r = Rig(root, desktop, mic, daemon, config_path, sections)
                yield r
                r.log.close()
            finally:
                daemon.stop()
    finally:
        desktop.stop()
        mic.stop()


class FocusWatch:
    """Samples the focused window and the indicator's state on a thread, every few milliseconds."""

    def __init__(self, rig: Rig, wid: str) -> None:
        self.rig, self.wid = rig, wid
        self.focus: list[str] = []
        self.states: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.focus.append(self.rig.focus())
            state = self.rig.prop(self.wid, "_ONEVOX_STATE")
            if not self.states or self.states[-1] != state:
                self.states.append(state)
            self._stop.wait(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)


def test_the_indicator_shows_the_state_and_live_words_and_never_takes_the_focus(
        rig: Rig, speech_dir: Path, speech_manifest: list[dict]) -> None:
    window, desktop = rig.window, rig.desktop
    window.focus()
    wid = rig.indicator()
    assert wid, "the daemon made no indicator window on the X display"
    assert rig.daemon.commands.status()["feedback"] == ["sounds", "indicator-x11"]
    assert not rig.mapped(wid), "the indicator is on screen while nothing is recorded"
    hints = desktop.run(["xprop", "-id", wid, "WM_HINTS"]).stdout.decode()
    assert "Client accepts input or input focus: False" in hints, hints
    watch = FocusWatch(rig, wid)
    try:
        before = window.text()
        key_down(desktop, HOTKEY)
        wait_until(lambda: rig.mapped(wid) and rig.prop(wid, "_ONEVOX_STATE") == "recording", 5.0,
                   "the indicator to show 'recording'")
        info = desktop.run(["xwininfo", "-id", wid]).stdout.decode()
        assert "Override Redirect State: yes" in info
        assert rig.prop(wid, "_NET_WM_NAME") == "onevox: recording"
        dictation = rig.daemon.controller.snapshot()["dictation"]
        rig.daemon.bus.publish("partial", dictation=dictation, text="go forward")  # what live mode publishes
        wait_until(lambda: rig.prop(wid, "_NET_WM_NAME") == "onevox: recording: go forward", 5.0,
                   "the live words in the indicator")
        assert rig.focus() == window.wid
        rig.mic.play(speech_dir / "ps-goforward.wav")
        key_up(desktop, HOTKEY)
        text = window.wait_for_change(before, timeout=30.0, settle=0.4)
        wait_until(lambda: not rig.mapped(wid), 5.0, "the indicator to hide once the text is typed")
        time.sleep(0.2)
    finally:
        watch.stop()
    clip = next(c for c in speech_manifest if c["id"] == "ps-goforward")
    assert clip_errors(clip, text[len(before):]).wer <= 0.25, text
    assert len(watch.focus) > 20 and set(watch.focus) == {window.wid}, \
        f"the focus left the Tk window: {sorted(set(watch.focus))}"
    assert "recording" in watch.states and watch.states[-1] == "idle", watch.states
    print(f"indicator states seen: {watch.states}; focus sampled {len(watch.focus)} times: the Tk window")


# --- sounds -------------------------------------------------------------------------------------------------


class SinkRecorder:
    """parec on the speakers' monitor (the default sink, not the one the microphone hears)."""

    def __init__(self, mic: VirtualMic, path: Path) -> None:
        self.path = path
        self._out = open(path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            ["parec", "-d", f"{SPEAKERS}.monitor", "--format=s16le", f"--rate={RATE}", "--channels=1",
             "--latency-msec=20"], env=mic.environ(), stdout=self._out, stderr=subprocess.DEVNULL)
        wait_until(lambda: path.stat().st_size > RATE // 10, 5.0, "parec to record")
        self._starts: list[float] = []  # wall time of sample 0, as each look at the file's size says
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._clock, daemon=True)
        self._watch.start()

    def _clock(self) -> None:
        while not self._stop.wait(0.01):
            self._starts.append(time.time() - self.path.stat().st_size / 2 / RATE)

    @property
    def started(self) -> float:
        """When sample 0 was played, to within parec's buffering (the earliest estimate is the closest)."""
        return min(self._starts)

    def stop(self) -> np.ndarray:
        self._stop.set()
        self._watch.join(5.0)
        self.proc.terminate()
        self.proc.wait(5.0)
        self._out.close()
        return np.frombuffer(self.path.read_bytes(), dtype="<i2").astype(np.float32) / 32768.0


def _tone_levels(audio: np.ndarray, freq: float, hop: int = RATE // 200,
                 size: int = RATE // 50) -> np.ndarray:
    """Per 5 ms hop, the amplitude of `freq` over a 20 ms window (a single DFT bin, Hann-windowed)."""
    n = (len(audio) - size) // hop
    if n <= 0:
        return np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(audio, size)[::hop][:n]
    basis = np.exp(-2j * np.pi * freq * np.arange(size) / RATE) * np.hanning(size)
    return np.abs(frames @ basis) * 4 / size


def _start_tone_at(audio: np.ndarray) -> float | None:
    """Seconds into `audio` where the start tone (its low note, then its high note) begins; None: absent."""
    low, high = TONES["start"]
    lo, hi = _tone_levels(audio, low), _tone_levels(audio, high)
    loud = np.flatnonzero(lo > 0.05)
    if loud.size == 0:
        return None
    first = loud[0]
    after = hi[first:first + 30]  # 150 ms
    if after.size == 0 or after.max() < 0.05 or int(after.argmax()) < 4:  # the high note comes ~45 ms later
        return None
    return first * (RATE // 200) / RATE


def _dictate_silence(rig: Rig) -> dict[str, float]:
    """Hold the hotkey 0.6 s without speaking; the press-to-event time and the pipeline's hotkey timing."""
    seen = len(rig.log.events)
    pressed = time.time()
    key_down(rig.desktop, HOTKEY)
    time.sleep(0.6)
    key_up(rig.desktop, HOTKEY)
    started = rig.log.wait_for("recording_started", lambda e: rig.log.events.index(e) >= seen)
    done = rig.log.wait_for("transcribed", lambda e: e["dictation"] == started["dictation"], timeout=30.0)
    wait_until(lambda: rig.daemon.controller.state in ("idle", "error"), 10.0, "the daemon to be idle")
    return {"press_to_event_ms": (started["ts"] - pressed) * 1000, "hotkey_ms": done["timings"]["hotkey"],
            "pressed": pressed}


def test_the_start_tone_plays_and_capture_starts_no_later(rig: Rig) -> None:
    rig.window.focus()
    timings: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
    recordings: dict[str, tuple[np.ndarray, float, float]] = {}  # audio, its start, the first press
    try:
        for phase in ("on", "off", "on"):
            rig.set_feedback(sounds=phase == "on")
            recorder = SinkRecorder(rig.mic, rig.root / f"sink-{phase}-{len(timings[phase])}.raw")
            first = len(timings[phase])
            try:
                for _ in range(3):
                    timings[phase].append(_dictate_silence(rig))
                    time.sleep(0.3)  # the stop tone plays out
            finally:
                audio = recorder.stop()
            recordings.setdefault(phase, (audio, recorder.started, timings[phase][first]["pressed"]))
    finally:
        rig.set_feedback(sounds=True)
    audio, started, pressed = recordings["on"]
    onset = _start_tone_at(audio)
    assert onset is not None, "no start tone in what the speakers played"
    assert _start_tone_at(recordings["off"][0]) is None, "a tone played with [feedback] sounds = false"
    press_to_tone_ms = (started + onset - pressed) * 1000
    print(f"key press to the start tone at the speakers: {press_to_tone_ms:.0f} ms (give or take 40 ms: "
          "when the null sink rendered it, timed through parec's buffering)")
    assert press_to_tone_ms < 400, "the start tone comes so late that the user is already speaking"
    summary = {phase: {key: float(np.median([t[key] for t in rows])) for key in rows[0] if key != "pressed"}
               for phase, rows in timings.items()}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "e2e-feedback-timings.json").write_text(repr(timings))
    print(f"capture start with sounds on vs off (median of {len(timings['on'])} / {len(timings['off'])}): "
          f"{summary}")
    assert summary["on"]["hotkey_ms"] <= summary["off"]["hotkey_ms"] + 15.0, summary
    assert summary["on"]["press_to_event_ms"] <= summary["off"]["press_to_event_ms"] + 25.0, summary
