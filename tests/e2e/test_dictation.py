"""Whole dictations on a virtual desktop, exactly as a user does them: the real `onevox daemon` (bundled
model) on Xvfb, speech played into a PulseAudio virtual microphone while the hotkey is held (xdotool), and
the words read back from a real Tk window. Compared with `onevox transcribe` on the same clip."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import jiwer
import numpy as np
import pytest
import soundfile as sf

from tests.support.daemon_proc import DaemonProcess, key_down, key_up
from tests.support.desktop import VirtualDesktop, missing_tools, wait_until
from tests.support.pulse import VirtualMic, pulse_available
from tests.support.wer import normalize, word_errors

pytestmark = [pytest.mark.e2e, pytest.mark.model]

HOTKEY = "ctrl+shift+space"
# "go forward ten meters" (ps-goforward) turns German and Chinese: umlauts, ß and Han characters through the
# daemon into the window
GERMAN_RULE = {"forward": "vorwärts über die Straße (向前走)"}
WER_SLACK = 0.05  # corpus WER of the dictations: "within a few points" of `onevox transcribe`
PER_CLIP_SLACK = 0.25
ARTIFACTS = Path(__file__).resolve().parents[2] / ".test-artifacts"


def _require_tools() -> None:
    missing = missing_tools(("xclip",))
    if missing or not pulse_available():
        pytest.fail(f"end-to-end tests need {missing or 'pulseaudio'}: run scripts/install-system-deps.sh "
                    "--with-test")


@pytest.fixture(scope="session")
def clips(speech_manifest) -> dict[str, dict]:
    return {clip["id"]: clip for clip in speech_manifest}


@pytest.fixture(scope="session")
def transcribed(speech_dir: Path) -> dict[str, str]:
    """`onevox transcribe --json` on the clips the dictations use: what the dictation should match."""
    names = ["arctic-a0024", "ps-goforward", "librivox-sns01-0890", "ps-cards-005", "ls-1088-134315-0000"]
    files = [str(speech_dir / f"{name}.wav") for name in names]
    done = subprocess.run([sys.executable, "-m", "onevox", "transcribe", "--json", *files],
                          capture_output=True, text=True, timeout=300, check=True)
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return {Path(row["file"]).stem: row["text"] for row in rows}


class Session:
    """One virtual desktop + microphone + daemon, and the latencies measured on it."""

    def __init__(self, desktop: VirtualDesktop, mic: VirtualMic, daemon: DaemonProcess) -> None:
        self.desktop, self.mic, self.daemon = desktop, mic, daemon
        self.window = desktop.open_target("editor")
        self.latencies_ms: list[float] = []

    def dictate(self, clip: Path, *, press, release, lead_s: float = 0.0) -> str:
        """Press, play the clip (starting `lead_s` before the press), release; return the text that
        appeared in the window."""
        self.window.focus()
        before = self.window.text()
        if lead_s:
            self.mic.play(clip, wait=False)
            time.sleep(lead_s)
            press()
            self.mic._players[-1].wait(timeout=60)
        else:
            press()
            self.mic.play(clip)
        released = release()
        wait_until(lambda: self.window.text() != before, 30.0, "the dictated text in the window", 0.002)
        self.latencies_ms.append((time.monotonic() - released) * 1000)
        after = self.window.wait_for_change(before, timeout=5.0, settle=0.4)
        self.daemon.wait_idle()
        return after[len(before):] if after.startswith(before) else after

    def hold(self):
        return (lambda: key_down(self.desktop, HOTKEY)), (lambda: key_up(self.desktop, HOTKEY))

    def tap_twice(self):
        def tap() -> float:
            key_down(self.desktop, HOTKEY)
            return key_up(self.desktop, HOTKEY)
        return tap, tap


def _session(tmp_path_factory, name: str, *, repeat: bool, sections: dict) -> Session:
    _require_tools()
    root = tmp_path_factory.mktemp(name)
    desktop = VirtualDesktop.start(root / "desktop", repeat=repeat)
    mic = VirtualMic(root / "mic")
    try:
        mic.start_server()
        daemon = DaemonProcess(root / "daemon", desktop, mic, sections)
        daemon.start()
    except BaseException:
        mic.stop()
        desktop.stop()
        raise
    return Session(desktop, mic, daemon)


def _close(session: Session, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"e2e-latency-{name}.json").write_text(json.dumps(session.latencies_ms))
    session.daemon.stop()
    session.mic.stop()
    session.desktop.stop()


@pytest.fixture(scope="module")
def ptt_paste(tmp_path_factory):
    """Push-to-talk, clipboard paste, key auto-repeat ON, a Unicode replacement rule."""
    session = _session(tmp_path_factory, "ptt-paste", repeat=True, sections={
        "hotkey": {"trigger": HOTKEY, "mode": "push-to-talk"},
        "injection": {"method": "paste"},
        "post_processing": {"replacements": {"meters": "mètres 📏", **GERMAN_RULE}},
    })
    yield session
    _close(session, "ptt-paste")


@pytest.fixture(scope="module")
def toggle_type(tmp_path_factory):
    """Toggle mode, typing (XTest), key auto-repeat OFF."""
    session = _session(tmp_path_factory, "toggle-type", repeat=False, sections={
        "hotkey": {"trigger": HOTKEY, "mode": "toggle"},
        "injection": {"method": "type"},
        "post_processing": {"replacements": GERMAN_RULE},
    })
    yield session
    _close(session, "toggle-type")


@pytest.fixture(scope="module")
def live_paste(tmp_path_factory):
    """Toggle mode, clipboard paste, live mode: settled words go in while the user is still speaking."""
    session = _session(tmp_path_factory, "live-paste", repeat=True, sections={
        "hotkey": {"trigger": HOTKEY, "mode": "toggle"},
        "injection": {"method": "paste", "live": True},
    })
    yield session
    _close(session, "live-paste")


@pytest.fixture(scope="module")
def live_held(tmp_path_factory):
    """Push-to-talk held through the whole dictation, typing (XTest), live mode, key auto-repeat ON: the
    words go in while the key is still held (the X11 listener gives the keyboard back meanwhile)."""
    session = _session(tmp_path_factory, "live-held", repeat=True, sections={
        "hotkey": {"trigger": HOTKEY, "mode": "push-to-talk"},
        "injection": {"method": "type", "live": True},
    })
    yield session
    _close(session, "live-held")


DICTATED: list[tuple[dict, str, str]] = []  # (clip, dictated text, `onevox transcribe` text) of this module


def _assert_close_to_transcribe(clip: dict, dictated: str, transcribed: str) -> None:
    """One dictation: within PER_CLIP_SLACK of `onevox transcribe` (two words on a 14-word clip are 14
    points, and capture through a sound server is not bit-exact, so a single short clip gets room; the corpus
    of all this module's dictations is held to WER_SLACK at the end). A compound written one way in one run
    and another way in the next ("cold-hearted" / "coldhearted") is forgiven when the letters match."""
    DICTATED.append((clip, dictated, transcribed))
    mine = word_errors(clip["text"], dictated).wer
    offline = word_errors(clip["text"], transcribed).wer
    if mine <= offline + PER_CLIP_SLACK:
        return
    mine_chars = _letter_errors(clip["text"], dictated)
    assert mine_chars <= _letter_errors(clip["text"], transcribed) + 0.02, (
        f"dictated {dictated!r} (WER {mine:.2f}) vs transcribe {transcribed!r} (WER {offline:.2f})")


def _letter_errors(reference: str, hypothesis: str) -> float:
    return jiwer.cer(normalize(reference).replace(" ", ""), normalize(hypothesis).replace(" ", ""))


def test_push_to_talk_paste(ptt_paste, speech_dir, clips, transcribed) -> None:
    press, release = ptt_paste.hold()
    text = ptt_paste.dictate(speech_dir / "arctic-a0024.wav", press=press, release=release)
    _assert_close_to_transcribe(clips["arctic-a0024"], text, transcribed["arctic-a0024"])


def test_unicode_replacement_arrives_intact(ptt_paste, speech_dir) -> None:
    press, release = ptt_paste.hold()
    text = ptt_paste.dictate(speech_dir / "ps-goforward.wav", press=press, release=release)
    assert "mètres 📏" in text, text


@pytest.mark.parametrize("name", ["ptt_paste", "toggle_type"], ids=["paste", "type"])
def test_german_and_chinese_text_arrive_intact(name: str, request: pytest.FixtureRequest, speech_dir) -> None:
    session: Session = request.getfixturevalue(name)
    press, release = session.hold() if name == "ptt_paste" else session.tap_twice()
    text = session.dictate(speech_dir / "ps-goforward.wav", press=press, release=release)
    assert GERMAN_RULE["forward"] in text, text


def test_ipc_start_and_stop_dictation(ptt_paste, speech_dir, clips, transcribed) -> None:
    cli = ptt_paste.daemon.cli
    text = ptt_paste.dictate(speech_dir / "librivox-sns01-0890.wav",
                             press=lambda: cli("start-dictation"),
                             release=lambda: _timed(cli, "stop-dictation"))
    _assert_close_to_transcribe(clips["librivox-sns01-0890"], text, transcribed["librivox-sns01-0890"])


def test_ipc_toggle(ptt_paste, speech_dir, clips, transcribed) -> None:
    cli = ptt_paste.daemon.cli
    text = ptt_paste.dictate(speech_dir / "ps-cards-005.wav", press=lambda: cli("toggle"),
                             release=lambda: _timed(cli, "toggle"))
    _assert_close_to_transcribe(clips["ps-cards-005"], text, transcribed["ps-cards-005"])


def test_release_to_text_through_ipc_is_as_fast_as_the_hotkey(ptt_paste, speech_dir) -> None:
    """The same short clip, the key released through the X11 grab or through `onevox stop-dictation` (what a
    Wayland compositor binding runs), interleaved in one run: the CLI round trip must cost next to nothing.
    The clip ends in half a second of silence, so neither path waits for a post-roll (taken only while the
    VAD still hears speech at the release)."""
    clip = speech_dir / "ps-goforward.wav"
    cli = ptt_paste.daemon.cli
    press, _ = ptt_paste.hold()

    def release() -> float:  # timed from the decision to release, as the IPC path is: launcher included
        given = time.monotonic()
        key_up(ptt_paste.desktop, HOTKEY)
        return given

    hotkey_ms: list[float] = []
    ipc_ms: list[float] = []
    cli_ms: list[float] = []

    def stop() -> float:
        given = _timed(cli, "stop-dictation")
        cli_ms.append((time.monotonic() - given) * 1000)
        return given

    for _ in range(3):
        ptt_paste.dictate(clip, press=press, release=release)
        hotkey_ms.append(ptt_paste.latencies_ms[-1])
        ptt_paste.dictate(clip, press=lambda: cli("start-dictation"), release=stop)
        ipc_ms.append(ptt_paste.latencies_ms[-1])
    hotkey, ipc = statistics.median(hotkey_ms), statistics.median(ipc_ms)
    print(f"\nrelease to text, median of 3: X11 hotkey {hotkey:.0f} ms, IPC stop-dictation {ipc:.0f} ms "
          f"(the CLI call itself {statistics.median(cli_ms):.0f} ms)")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "e2e-release-to-text-x11.json").write_text(json.dumps({"hotkey_ms": hotkey_ms,
                                                                         "ipc_ms": ipc_ms}))
    assert ipc <= hotkey + 30.0, (hotkey_ms, ipc_ms)


def test_live_mode_types_words_before_the_stop(live_paste, speech_dir, clips, transcribed) -> None:
    """A 16 s sentence without a long pause, started and stopped with the hotkey: the window shows words
    (seen from the window's side) before the stop, and the final text is as good as normal mode's."""
    clip_id = "ls-1088-134315-0000"
    session = live_paste
    session.window.focus()
    before = session.window.text()
    press, release = session.tap_twice()
    press()
    player = session.mic.play(speech_dir / f"{clip_id}.wav", wait=False)
    first_change: float | None = None
    while player.poll() is None:
        if first_change is None and session.window.text() != before:
            first_change = time.monotonic()
        time.sleep(0.02)
    while_held = session.window.text()
    released = release()
    after = session.window.wait_for_change(while_held, timeout=30.0, settle=0.6)
    session.daemon.wait_idle()
    assert first_change is not None and first_change < released, "no words reached the window before the stop"
    assert len(while_held) > len(before), "nothing was typed while the user spoke"
    text = after[len(before):]
    print(f"\nfirst words {released - first_change:.1f} s before the stop; typed while speaking: "
          f"{while_held[len(before):]!r}; final: {text!r}")
    assert text.startswith(while_held[len(before):]), "live mode took back text it had typed"
    _assert_close_to_transcribe(clips[clip_id], text, transcribed[clip_id])


def test_live_mode_types_words_while_the_key_is_held(live_held, speech_dir, clips, transcribed) -> None:
    """The same sentence with the push-to-talk key held down (xdotool keydown: a real X key event) from
    before the first word to after the last: words show up in the window before the key goes up, the held
    ctrl+shift do not turn them into shortcuts, and the final text is as good as normal mode's."""
    clip_id = "ls-1088-134315-0000"
    session = live_held
    session.window.focus()
    before = session.window.text()
    press, release = session.hold()
    press()
    player = session.mic.play(speech_dir / f"{clip_id}.wav", wait=False)
    first_change: float | None = None
    while player.poll() is None:
        if first_change is None and session.window.text() != before:
            first_change = time.monotonic()
        time.sleep(0.02)
    while_held = session.window.text()
    released = release()
    after = session.window.wait_for_change(while_held, timeout=30.0, settle=0.6)
    status = session.daemon.wait_idle()
    assert first_change is not None and first_change < released, "no words in the window before the release"
    assert len(while_held) > len(before), "nothing was typed while the key was held"
    text = after[len(before):]
    print(f"\nfirst words {released - first_change:.1f} s before the release; typed while held: "
          f"{while_held[len(before):]!r}; final: {text!r}")
    assert text.startswith(while_held[len(before):]), "live mode took back text it had typed"
    assert status["state"] == "idle"
    _assert_close_to_transcribe(clips[clip_id], text, transcribed[clip_id])


def test_silence_under_the_hotkey_types_nothing(ptt_paste) -> None:
    ptt_paste.window.focus()
    before = ptt_paste.window.text()
    key_down(ptt_paste.desktop, HOTKEY)
    time.sleep(2.0)
    key_up(ptt_paste.desktop, HOTKEY)
    status = ptt_paste.daemon.wait_idle()
    time.sleep(1.0)
    assert ptt_paste.window.text() == before
    assert status["state"] == "idle"


def test_first_word_is_kept_when_speech_starts_before_the_press(ptt_paste, speech_dir, clips,
                                                                 tmp_path) -> None:
    """The clip, trimmed to start right at its first word, is already playing when the key goes down: the
    pre-roll must keep the beginning of that word."""
    audio, rate = sf.read(speech_dir / "arctic-a0024.wav", dtype="float32")
    onset = _speech_onset(audio, rate)
    trimmed = tmp_path / "starts-with-speech.wav"
    sf.write(trimmed, audio[max(0, onset - rate // 100):], rate)
    press, release = ptt_paste.hold()
    text = ptt_paste.dictate(trimmed, press=press, release=release, lead_s=0.25)
    first_word = normalize(clips["arctic-a0024"]["text"]).split()[0]
    assert normalize(text).split()[:1] == [first_word], text


def test_toggle_mode_typing_without_auto_repeat(toggle_type, speech_dir, clips, transcribed) -> None:
    press, release = toggle_type.tap_twice()
    text = toggle_type.dictate(speech_dir / "arctic-a0024.wav", press=press, release=release)
    _assert_close_to_transcribe(clips["arctic-a0024"], text, transcribed["arctic-a0024"])


def test_history_keeps_every_dictation(ptt_paste) -> None:
    listed = json.loads(ptt_paste.daemon.cli("history", "list", "--json").stdout)
    assert len(listed) >= 4
    assert all(entry["text"] for entry in listed)


def test_corpus_of_dictations_is_within_a_few_points_of_transcribe() -> None:
    """All the clips dictated above, scored together like the accuracy test scores the corpus."""
    assert len(DICTATED) >= 4, "the dictation tests above did not run"
    mine = [word_errors(clip["text"], dictated) for clip, dictated, _ in DICTATED]
    offline = [word_errors(clip["text"], transcribed) for clip, _, transcribed in DICTATED]
    mine_wer = sum(e.errors for e in mine) / sum(e.ref_words for e in mine)
    offline_wer = sum(e.errors for e in offline) / sum(e.ref_words for e in offline)
    print(f"\ndictated corpus WER {mine_wer:.3f} vs transcribe {offline_wer:.3f} over {len(DICTATED)} clips")
    assert mine_wer <= offline_wer + WER_SLACK


def _timed(cli, command: str) -> float:
    """Runs an IPC command; returns when it was given (the moment of 'release')."""
    given = time.monotonic()
    cli(command)
    return given


def _speech_onset(audio: np.ndarray, rate: int) -> int:
    """First 10 ms frame 25 dB above the clip's quietest frames."""
    frame = rate // 100
    frames = audio[: len(audio) // frame * frame].reshape(-1, frame)
    level = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-9)
    floor = np.percentile(level, 10)
    return int(np.argmax(level > floor + 25)) * frame
