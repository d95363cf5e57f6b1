"""A per-application profile applied to one dictation by the controller and the pipeline (test doubles for
the microphone, the model, the window lookup and the injectors; tests/e2e/test_profiles_dictation.py does it
for real): its post-processing and injection method, dictation turned off, its prompt, status and events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onevox.config import Config, InjectionConfig, parse_config
from onevox.daemon.reload import changed_keys
from onevox.desktop.focus import FocusedWindow
from onevox.profiles import ProfileChooser
from tests.daemon.conftest import Harness, build_harness, close_harness
from tests.daemon.doubles import FakeInjector, FakeRecognizer

PROFILES = """
[post_processing]
trailing_space = false

[profiles.terminal]
match_class = ["kitty"]
[profiles.terminal.injection]
method = "type"
[profiles.terminal.post_processing]
capitalize = false
final_period = false

[profiles.secret]
match_title = "password"
enabled = false

[profiles.editor]
match_class = ["code"]
[profiles.editor.model]
initial_prompt = "Python code."
vocabulary = ["pytest"]
"""


class Window:
    """Stands in for the focused-window lookup: the window a test says the user is in."""

    def __init__(self) -> None:
        self.now: FocusedWindow | None = None
        self.closed = False

    def focused(self) -> FocusedWindow | None:
        return self.now

    def close(self) -> None:
        self.closed = True


class PromptedFake(FakeRecognizer):
    """A recognizer that records the context each dictation asks for (implements PromptedRecognizer)."""

    def __init__(self, texts: list[str]) -> None:
        super().__init__(texts)
        self.contexts: list[tuple[str | None, list[str] | None]] = []

    def use_context(self, initial_prompt: str | None = None, vocabulary: Any = None) -> None:
        self.contexts.append((initial_prompt, None if vocabulary is None else list(vocabulary)))


class Built:
    """Builds the profiles' injectors: one FakeInjector per settings, named after the method."""

    def __init__(self) -> None:
        self.injectors: list[tuple[InjectionConfig, FakeInjector]] = []

    def __call__(self, cfg: InjectionConfig) -> FakeInjector:
        injector = FakeInjector()
        injector.name = cfg.method
        self.injectors.append((cfg, injector))
        return injector


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Harness, Window, Built]]:
    h = build_harness(tmp_path, recognizer=PromptedFake(["Git status.", "Hello there.", "My secret.",
                                                          "Import os."]))
    window, built = Window(), Built()
    h.controller.profiles = ProfileChooser(window)  # type: ignore[arg-type]
    h.controller.set_config(parse_config(PROFILES))
    h.controller.stages.make_injector = built
    yield h, window, built
    close_harness(h)
    assert window.closed


def test_a_matching_profile_changes_post_processing_and_the_injection_method(setup) -> None:
    h, window, built = setup
    window.now = FocusedWindow(("kitty", "kitty"), "~/src", "x11")
    event = h.dictate()
    assert (event["text"], event["profile"]) == ("git status", "terminal")
    injected = h.log.wait_for("injected", lambda e: e["dictation"] == event["dictation"])
    assert (injected["method"], injected["profile"]) == ("type", "terminal")
    [(cfg, injector)] = built.injectors
    assert cfg.method == "type" and injector.texts == ["git status"]
    assert h.injector.texts == []  # the daemon's own injector was not used
    status = h.idle()
    assert (status["last_profile"], status["profiles"]) == ("terminal", ["terminal", "secret", "editor"])
    assert h.history is not None and h.history.last().method == "type"  # type: ignore[union-attr]

    window.now = FocusedWindow(("firefox", "Firefox"), "News", "x11")  # no profile: the config as it is
    event = h.dictate()
    assert ("profile" not in event, event["text"]) == (True, "Hello there.")
    h.log.wait_for("injected", lambda e: e["dictation"] == event["dictation"])
    assert h.injector.texts == ["Hello there."]
    assert h.idle()["last_profile"] == ""
    assert len(built.injectors) == 1  # the terminal's injector is kept for its next dictation


def test_a_disabled_profile_keeps_the_text_in_history_and_types_nothing(setup) -> None:
    h, window, built = setup
    h.recognizer.texts = ["My secret."]
    window.now = FocusedWindow(("xterm", "XTerm"), "sudo: password for me", "x11")
    started = h.start()
    assert started["profile"] == "secret"
    assert started["message"] == (f"dictation {started['dictation']} (profile secret turns dictation off in "
                                  "this window: history only)")
    h.speak(0.4)
    h.pause(0.1)
    h.controller.stop()
    event = h.log.wait_for("transcribed")
    assert event["note"] == ("profile secret turns dictation off in this window: kept in the history, "
                             "nothing injected")
    status = h.idle()
    assert h.injector.texts == [] and built.injectors == [] and not h.log.kinds("injected")
    assert status["state"] == "idle" and status["last_error"] == "" and status["last_profile"] == "secret"
    assert h.history is not None
    entry = h.history.last()
    assert entry is not None
    assert (entry.text, entry.status, entry.error) == (
        "My secret.", "not_injected", "profile secret turns dictation off in that window")


def test_a_profile_prompt_primes_only_its_own_dictations(setup) -> None:
    h, window, _built = setup
    h.recognizer.texts = ["Import os.", "Hello."]
    window.now = FocusedWindow(("code", "Code"), "main.py", "x11")
    h.dictate()
    h.idle()
    window.now = None  # the window cannot be told: the config as it is
    h.dictate()
    h.idle()
    assert h.recognizer.contexts == [("Python code.", ["pytest"]), (None, None)]


def test_reloaded_profiles_are_named_and_used_by_the_next_dictation() -> None:
    old = parse_config(PROFILES)
    new = parse_config(PROFILES.replace('match_class = ["kitty"]', 'match_class = ["foot"]'))
    assert changed_keys(old, new) == ["profiles"]
    assert changed_keys(Config(), Config()) == []
