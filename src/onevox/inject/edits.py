"""What the edit commands do in the window: take the previous dictation back out ("scratch that"), press
Enter or Tab. Only text onevox typed itself is ever deleted, and only when that is certain.

The editor remembers what onevox last typed (the exact characters, the focused window, when, and how many
presses the user had made by then). "scratch that" then sends exactly one BackSpace per character, the same
in paste and type mode (both leave the same characters in the window), and refuses, with the reason, when:
nothing was typed or the last delivery failed, it is older than `max_age_s`, it was already taken back (one
scratch per dictation: the one before it is never deleted blind), a key was pressed since ("press enter"
included), the focus moved, the user pressed a key or clicked since, the text has characters a window may
count differently from onevox (emoji, combining accents), or the session cannot tell any of this (Wayland).
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from onevox.config import InjectionConfig
from onevox.desktop.keys import Hotkey
from onevox.errors import InjectionError, OnevoxError
from onevox.inject.activity import ActivityWatcher, Unwatched, X11ActivityWatcher
from onevox.inject.keys import KeySender, create_key_sender

ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\ufeff"}


class EditRefused(OnevoxError):
    """The command was not carried out; the message says why, for the user."""


@dataclass(frozen=True)
class EditOptions:
    max_age_s: float = 120.0  # "scratch that" only takes back a dictation typed at most this long ago


@dataclass
class Typed:
    """What onevox last put into the window."""

    dictation: int  # the dictation it came from
    text: str  # exactly the characters injected (live mode: all pieces)
    focus: tuple[int, ...]  # the watcher's view of the focused window right after
    presses: int  # the user's presses counted by then
    at: float  # monotonic seconds of the last piece


class Editor:
    """Carries out the edit commands; used from the daemon's delivery worker only."""

    def __init__(self, keys: KeySender, watcher: ActivityWatcher, options: EditOptions | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.keys = keys
        self.watcher = watcher
        self.options = options or EditOptions()
        self.clock = clock
        self._last: Typed | None = None
        self._not_undoable = "onevox has typed nothing since it started"

    @property
    def method(self) -> str:
        return self.keys.name

    def own_input(self) -> AbstractContextManager[None]:
        """Wrap every key onevox sends (the injection too), so that it is not taken for the user's."""
        return self.watcher.own_input()

    def typed(self, dictation: int, text: str) -> None:
        """`text` went into the window (after the injection, inside nothing); a live piece of the same
        dictation adds to what is there."""
        if not text:
            return
        focus, presses, now = self._focus(), self.watcher.user_presses(), self.clock()
        last = self._last
        if last is not None and last.dictation == dictation and last.focus == focus \
                and last.presses == presses:
            last.text += text
            last.at = now
            return
        self._last = Typed(dictation, text, focus, presses, now)

    def forget(self, why: str) -> None:
        """Nothing onevox typed may be taken back any more (a failed delivery, a key pressed after it)."""
        self._last = None
        self._not_undoable = why

    def scratch(self) -> str:
        """Delete the previous dictation's characters; returns what was done, EditRefused says why not."""
        last = self._last
        if last is None:
            raise EditRefused(f"nothing to take back: {self._not_undoable}")
        reason = self._unsafe(last)
        if reason:
            raise EditRefused(f"not deleting the previous dictation: {reason}")
        count = len(last.text)
        self._last = None
        self._not_undoable = "it was already taken back (one \"scratch that\" per dictation)"
        with self.own_input():
            self.keys.press("backspace", count)
        return f"removed the previous dictation ({count} characters)"

    def press(self, key: str) -> str:
        """Press Enter or Tab in the focused window."""
        try:
            with self.own_input():
                self.keys.press(key)
        finally:
            self.forget(f"a key was pressed after it ({key})")
        return f"pressed {key}"

    def close(self) -> None:
        self.watcher.close()

    def _unsafe(self, last: Typed) -> str:
        """Why deleting `last` now could hit text onevox did not type; '' when it cannot."""
        reason = self.watcher.unavailable_reason()
        if reason:
            return f"cannot tell whether you typed since ({reason})"
        age = self.clock() - last.at
        if age > self.options.max_age_s:
            return f"it was typed {age:.0f} s ago (more than {self.options.max_age_s:g} s)"
        if self._focus() != last.focus:
            return "the keyboard focus moved to another window since"
        typed = self.watcher.user_presses() - last.presses
        if typed:
            return f"you pressed keys or clicked since ({typed} times)"
        odd = uncertain_length(last.text)
        if odd:
            return f"a window may count its characters differently ({odd})"
        return ""

    def _focus(self) -> tuple[int, ...]:
        try:
            return self.watcher.focus()
        except (InjectionError, OSError) as exc:  # unknown focus never equals a known one
            return (-1, id(exc))


def uncertain_length(text: str) -> str:
    """Characters for which one BackSpace may not remove exactly one (emoji and other characters beyond
    the Basic Multilingual Plane, combining marks, zero-width joiners, control characters); '' for none."""
    odd = {ch for ch in text if ord(ch) > 0xFFFF or unicodedata.combining(ch) or ch in ZERO_WIDTH
           or (unicodedata.category(ch) == "Cc" and ch not in "\n\t")}
    return " ".join(f"U+{ord(ch):04X}" for ch in sorted(odd))


def create_editor(cfg: InjectionConfig, session: str, hotkeys: tuple[Hotkey, ...] = (),
                  options: EditOptions | None = None) -> Editor:
    """The editor for this session: X11 watches for typing through RECORD; elsewhere scratching refuses."""
    keys = create_key_sender(cfg, session)
    watcher: ActivityWatcher
    if session == "x11":
        watcher = X11ActivityWatcher(hotkeys)
    elif session == "wayland":
        watcher = Unwatched("Wayland lets no program see your typing, so onevox cannot know the text is "
                            "still its own")
    else:
        watcher = Unwatched(f"no desktop session to watch ('{session}')")
    return Editor(keys, watcher, options)
