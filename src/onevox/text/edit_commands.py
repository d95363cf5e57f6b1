"""Edit commands spoken as a whole dictation: "scratch that" / "delete that" take the previous dictation
back out of the window, "press enter" / "press tab" press that key.

A command is recognised only when it is the WHOLE utterance, after Whisper's capitals and punctuation are
dropped ("Scratch that.", "Press enter!", "Scratch. That." all count). Inside any longer sentence the same
words are ordinary prose ("I will scratch that itch", "press enter to continue") and are typed as dictated.
There is deliberately nothing that could destroy text onevox did not type (no "select all", no "delete line").
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class EditCommand(StrEnum):
    """What a recognised command does; the value is what history and events record."""

    SCRATCH = "scratch"  # remove the previous dictation's characters from the window
    ENTER = "enter"  # press Enter
    TAB = "tab"  # press Tab


# the spoken forms, as normalised words. "scratch that" is also taken as Whisper mishears it when it is the
# whole utterance ("Scratch, mat.", "Scratched that."): as a dictation of its own none of these is prose.
# "delete it" / "delete this" are not: as a whole message they are something a user writes to someone.
PHRASES: dict[str, EditCommand] = {
    "scratch that": EditCommand.SCRATCH,
    "scratched that": EditCommand.SCRATCH,
    "scratch mat": EditCommand.SCRATCH,
    "scratch dat": EditCommand.SCRATCH,
    "scratch at": EditCommand.SCRATCH,
    "delete that": EditCommand.SCRATCH,
    "press enter": EditCommand.ENTER,
    "press return": EditCommand.ENTER,
    "press tab": EditCommand.TAB,
}

_NOT_WORD = re.compile(r"[^\w']+")


def normalize_utterance(text: str) -> str:
    """Lower case, every run of punctuation and spacing turned into one space, ends trimmed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def match_command(text: str) -> EditCommand | None:
    """The command `text` is when it is nothing but one of PHRASES; None for anything else."""
    return PHRASES.get(normalize_utterance(text))
