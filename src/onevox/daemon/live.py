"""Live mode's one rule: text already in the window is never taken back. Each delivery types only what
follows it. When post-processing rewrote words already typed (a replacement that joined "java script" into
"JavaScript", capitalisation, a comma), the rewritten text is walked until it has covered as many letters as
the window holds, and only the words after that are added."""

from __future__ import annotations

import re

_LETTERS = re.compile(r"\w")


def live_rest(done: str, text: str) -> str:
    """What to type after `done` (already in the window) so that the window reads `text`, as near as it can
    without deleting anything."""
    if text.startswith(done):
        return text[len(done):]
    words = text.split()
    wanted, covered, index = _letters(done), 0, 0
    while index < len(words) and covered < wanted:
        covered += _letters(words[index])
        index += 1
    while index < len(words) and not _letters(words[index]):  # punctuation or an emoji of the last word
        index += 1
    rest = words[index:]
    trailing = " " if text.endswith(" ") else ""
    if not rest:
        return trailing if not done.endswith(" ") else ""
    return " " + " ".join(rest) + trailing


def _letters(text: str) -> int:
    return len(_LETTERS.findall(text))
