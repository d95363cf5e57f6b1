"""Per-application profiles, end to end: the real `onevox daemon` (bundled model) on Xvfb, a real clip played
into the PulseAudio virtual microphone while the hotkey is held, the text read back from real Tk windows.

The config pastes (`[injection] method = "paste"`) and capitalises; a profile for the Tk window class
"Profiled" types instead (XTest), writes the first letter small and drops the final full stop; a profile for
the class "Quiet" turns dictation off. The same clip is dictated into each window: the words land (or not)
as each profile says, and the history, the events and `onevox status` say which profile and method served.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from onevox.ipc.client import IpcClient
from tests.e2e.test_dictation import Session, _close, _session
from tests.support.desktop import wait_until
from tests.support.wer import word_errors

pytestmark = [pytest.mark.e2e, pytest.mark.model]

CLIP = "arctic-a0024"  # "It was my reports from the north which chiefly induced people to buy."


@pytest.fixture(scope="module")
def clips(speech_manifest) -> dict[str, dict]:
    return {clip["id"]: clip for clip in speech_manifest}


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    session = _session(tmp_path_factory, "profiles", repeat=False, sections={
        "hotkey": {"trigger": "ctrl+shift+space", "mode": "push-to-talk"},
        "injection": {"method": "paste"},
        "post_processing": {"trailing_space": False},
        "profiles.typed": {"match_class": ["profiled"], "injection": {"method": "type"},
                           "post_processing": {"capitalize": False, "final_period": False}},
        "profiles.quiet": {"match_class": ["Quiet"], "enabled": False},
    })
    yield session
    _close(session, "profiles")


class Events:
    """The daemon's event stream, collected on a thread."""

    def __init__(self, session: Session) -> None:
        self.items: list[dict[str, Any]] = []
        stream = IpcClient(session.daemon.socket, timeout=10.0).events()
        self._thread = threading.Thread(target=lambda: self.items.extend(stream), daemon=True)
        self._thread.start()

    def wait(self, kind: str, **fields: Any) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((e for e in list(self.items) if e["event"] == kind
                         and all(e.get(k) == v for k, v in fields.items())), None)
        return wait_until(found, 30.0, f"a {kind} event with {fields}")  # type: ignore[return-value]


def history(session: Session) -> dict:
    return json.loads(session.daemon.cli("history", "list", "--json").stdout)[0]  # newest first


def dictate(session: Session, window, clip) -> str:
    session.window = window
    press, release = session.hold()
    return session.dictate(clip, press=press, release=release)


def test_a_profile_changes_the_injection_method_and_the_post_processing(session, speech_dir, clips) -> None:
    events = Events(session)
    clip, reference = speech_dir / f"{CLIP}.wav", clips[CLIP]["text"]
    profiled = session.desktop.open_target("terminal", class_name="Profiled")

    text = dictate(session, profiled, clip)
    entry = history(session)
    assert text[0] == "i" and text[-1] != "." and text == entry["text"], text
    assert word_errors(reference, text).wer <= 0.25, text
    assert entry["method"] == "type" and entry["status"] == "injected"
    transcribed = events.wait("transcribed", text=text)
    injected = events.wait("injected", dictation=transcribed["dictation"])
    assert (transcribed["profile"], injected["profile"], injected["method"]) == ("typed", "typed", "type")
    status = session.daemon.status()
    assert (status["last_profile"], status["profiles"]) == ("typed", ["typed", "quiet"])
    shown = session.daemon.cli("status").stdout
    assert "profile:    typed (of typed, quiet)" in shown, shown

    # the window the config serves as it is: pasted, capitalised, with its full stop
    plain = session.desktop.open_target("plain")
    text = dictate(session, plain, clip)
    entry = history(session)
    assert text[0] == "I" and text[-1] == "." and text == entry["text"], text
    assert entry["method"] == "paste"
    assert session.daemon.status()["last_profile"] == ""


def test_a_profile_turns_dictation_off_and_the_text_stays_in_history(session, speech_dir) -> None:
    quiet = session.desktop.open_target("quiet", class_name="Quiet")
    before = quiet.text()
    session.window = quiet
    press, release = session.hold()
    press()
    session.mic.play(speech_dir / f"{CLIP}.wav")
    release()
    wait_until(lambda: history(session)["status"] != "pending" and session.daemon.status()["state"] == "idle"
               and session.daemon.status()["last_profile"] == "quiet", 30.0, "the dictation to end")
    entry = history(session)
    assert entry["status"] == "not_injected", entry
    assert entry["error"] == "profile quiet turns dictation off in that window"
    assert word_errors("It was my reports from the north which chiefly induced people to buy.",
                       entry["text"]).wer <= 0.25
    assert quiet.settled_text(quiet_s=1.0) == before  # nothing typed, nothing pasted
    assert "profile quiet turns dictation off in this window" in session.daemon.log()
