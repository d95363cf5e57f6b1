"""Live mode's one rule: text already in the window is never taken back. Each delivery types only what
follows it; when post-processing rewrote the earlier words (a replacement that spans the boundary, say), the
words already typed are counted and only the words after them are added."""

from __future__ import annotations


def live_rest(done: str, text: str) -> str:
    """What to type after `done` (already in the window) so that the window reads `text`, as near as it can
    without deleting anything."""
    if text.startswith(done):
        return text[len(done):]
    words = text.split()
    rest = words[len(done.split()):]
    if not rest:
        return " " if text.endswith(" ") and not done.endswith(" ") else ""
    return " " + " ".join(rest) + (" " if text.endswith(" ") else "")
