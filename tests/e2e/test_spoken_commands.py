"""Spoken punctuation through the whole pipeline, as a user dictates it: the real `onevox daemon` (bundled
tiny.en, default [commands]) on Xvfb, speech played into the PulseAudio virtual microphone while the hotkey is
held, and the window's text compared exactly with what a careful typist would have written.

No recording of anyone saying "comma" or "new paragraph" is in the repository, so the speech is generated
when the test runs, by flite's slt voice: of the voices measured (espeak-ng en-us, en-us+m3, en-gb; flite slt,
rms, awb, kal16; festival's kal_diphone) it is the one tiny.en hears the commands from best. Commands are said
after a short pause (the commas in the text make flite pause), as a user does."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_dictation import HOTKEY, Session, _close, _session

pytestmark = [pytest.mark.e2e, pytest.mark.model]

# (what the voice says, what the window must then hold: the dictation's text and its trailing space)
DICTATIONS = [
    ("hello, comma, how are you, question mark", "Hello, how are you? "),
    ("the meeting is over, period, new paragraph, thanks everyone for coming, period",
     "The meeting is over.\n\nThanks everyone for coming. "),
    ("is it ready, question mark, new line, yes, exclamation mark", "Is it ready?\nYes! "),
]


def _speak(text: str, folder: Path, name: str) -> Path:
    raw, clip = folder / f"{name}-raw.wav", folder / f"{name}.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(raw)], check=True, timeout=60)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(clip)], check=True, timeout=60)
    return clip


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    if shutil.which("flite") is None or shutil.which("sox") is None:
        pytest.fail("this test needs flite and sox: run scripts/install-system-deps.sh --with-test")
    folder = tmp_path_factory.mktemp("spoken")
    return [_speak(said, folder, f"dictation-{i}") for i, (said, _) in enumerate(DICTATIONS)]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    session = _session(tmp_path_factory, "spoken-commands", repeat=False, sections={
        "hotkey": {"trigger": HOTKEY, "mode": "push-to-talk"},
        "injection": {"method": "paste"},
    })
    yield session
    _close(session, "spoken-commands")


@pytest.mark.parametrize("index", range(len(DICTATIONS)), ids=["comma-question", "new-paragraph", "new-line"])
def test_spoken_commands_reach_the_window(session: Session, clips: list[Path], index: int) -> None:
    press, release = session.hold()
    text = session.dictate(clips[index], press=press, release=release)
    entry = json.loads(session.daemon.cli("history", "list", "--json").stdout)[0]  # newest first
    assert text == DICTATIONS[index][1], f"Whisper wrote {entry.get('raw_text')!r}"
