"""Edit commands are recognised only as whole utterances, in the forms Whisper writes them."""

from __future__ import annotations

import pytest

from onevox.text.edit_commands import EditCommand, match_command, normalize_utterance


@pytest.mark.parametrize(("said", "command"), [
    # what tiny.en wrote for espeak-ng speaking them (measured), and the usual variants
    ("Scratch that.", EditCommand.SCRATCH), ("Scratch that", EditCommand.SCRATCH),
    ("Scratch. That.", EditCommand.SCRATCH), ("scratch that!", EditCommand.SCRATCH),
    ("  SCRATCH THAT  ", EditCommand.SCRATCH), ("Delete that.", EditCommand.SCRATCH),
    ("Delete, that!", EditCommand.SCRATCH), ("Press enter.", EditCommand.ENTER),
    ("press enter", EditCommand.ENTER), ("Press return.", EditCommand.ENTER),
    ("Press Tab.", EditCommand.TAB), ("press tab", EditCommand.TAB), ("Press... tab?", EditCommand.TAB),
    # how tiny.en mishears "scratch that" on its own (seen in CI, espeak-ng speech)
    ("Scratch, mat.", EditCommand.SCRATCH), ("Scratched that.", EditCommand.SCRATCH),
])
def test_whole_utterance_is_a_command(said: str, command: EditCommand) -> None:
    assert match_command(said) is command


@pytest.mark.parametrize("said", [
    "I will scratch that itch.", "Press enter to continue.", "Then press tab twice.", "scratch",
    "Scratch that, and then write the letter.", "Please press enter.", "delete", "that", "",
    "Press enter and press tab.", "scratch this", "Crash that.", "Delete that file.", "press entering",
    "scratch-that-itch", "...", "Delete it.", "Delete this.", "Scratch mat for the cat.",
])
def test_prose_never_matches(said: str) -> None:
    assert match_command(said) is None


def test_normalize_keeps_words_and_apostrophes() -> None:
    assert normalize_utterance("  Don't, PRESS\tenter! ") == "don't press enter"
