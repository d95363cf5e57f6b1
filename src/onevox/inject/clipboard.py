"""Clipboards the paste method can use: the interface, and the command-line tools (xclip, xsel, wl-copy).

The tools are what Wayland needs (wl-copy/wl-paste) and what X11 falls back to when the in-process owner
(xselection.py) cannot be used. Each leaves a process behind that owns the clipboard until the next copy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from onevox.errors import InjectionError
from onevox.inject.session import have_tool, run_tool


class NotText:
    """What read() gives when the clipboard holds something other than text (an image, files), or its owner
    did not answer: it cannot be saved, so pasting over it would lose it."""

    def __repr__(self) -> str:
        return "NOT_TEXT"


NOT_TEXT = NotText()
Contents = str | None | NotText  # None: the clipboard is empty


class Clipboard(Protocol):
    name: str
    reports_fetch: bool  # wait_pasted() learns when a window fetched the text (only an in-process owner can)

    def read(self) -> Contents:
        """The clipboard's text now, None when it is empty, NOT_TEXT when it holds something else."""
        ...

    def write(self, text: str) -> None:
        """Put `text` on the clipboard; InjectionError when it cannot."""
        ...

    def clear(self) -> None:
        """Leave the clipboard empty (what it was before a paste, when it was empty)."""
        ...

    def wait_pasted(self, timeout: float) -> float | None:
        """Wait until a window has fetched the text written last: the monotonic time it did, or None when
        none did within `timeout`. Without reports_fetch it cannot tell, and gives None at once."""
        ...


@dataclass(frozen=True)
class ToolCommands:
    name: str
    write: tuple[str, ...]  # reads the text on stdin
    read: tuple[str, ...]  # prints the text; fails when there is none
    clear: tuple[str, ...]  # () = write an empty string instead
    types: tuple[str, ...]  # lists what the clipboard holds; fails or prints nothing when empty
    # How long the list may take. wl-paste reads the types from the compositor alone (the owner is not
    # asked), so a slow answer means none is coming: KWin 5.27 sends nothing when no one owns the clipboard
    # and wl-paste waits for ever. xclip asks the owning application, which may be slow.
    types_timeout_s: float = 2.0


TOOLS: dict[str, ToolCommands] = {
    "xclip": ToolCommands("xclip", ("xclip", "-selection", "clipboard", "-in"),
                          ("xclip", "-selection", "clipboard", "-out", "-target", "UTF8_STRING"), (),
                          ("xclip", "-selection", "clipboard", "-out", "-target", "TARGETS")),
    "xsel": ToolCommands("xsel", ("xsel", "--clipboard", "--input"), ("xsel", "--clipboard", "--output"),
                         ("xsel", "--clipboard", "--clear"), ()),
    "wl-copy": ToolCommands("wl-copy", ("wl-copy", "--type", "text/plain;charset=utf-8"),
                            ("wl-paste", "--no-newline", "--type", "text"), ("wl-copy", "--clear"),
                            ("wl-paste", "--list-types"), types_timeout_s=0.5),
}
CONFIRM_TIMEOUT_S = 2.0
TEXT_TYPES = {"UTF8_STRING", "STRING", "TEXT", "text/plain", "text/plain;charset=utf-8"}
SESSION_TOOLS = {"x11": ("xclip", "xsel"), "wayland": ("wl-copy",)}


class ToolClipboard:
    reports_fetch = False  # the tool's own process serves the paste; we never see it

    def __init__(self, commands: ToolCommands) -> None:
        self.commands = commands
        self.name = commands.name

    def read(self) -> Contents:
        if self.commands.types:
            offered = self._types()
            if not offered:
                return None
            if not offered & TEXT_TYPES:
                return NOT_TEXT  # checked first: some owners answer a text request with an image anyway
        try:
            out = run_tool(self.commands.read, timeout=2.0)
        except InjectionError:
            return None if not self.commands.types else NOT_TEXT
        return out.decode("utf-8", "replace")

    def _types(self) -> set[str]:
        try:
            listed = run_tool(self.commands.types, timeout=self.commands.types_timeout_s)
        except InjectionError:
            return set()  # these tools fail when the clipboard is empty
        return set(listed.decode("utf-8", "replace").split())

    def write(self, text: str) -> None:
        run_tool(self.commands.write, stdin=text.encode("utf-8"), forks_owner=True)
        self._confirm(text)

    def _confirm(self, text: str) -> None:
        """The tool returns before its background child owns the clipboard: a paste at once could get the
        old contents, so wait until the clipboard reads back as the text."""
        deadline = time.monotonic() + CONFIRM_TIMEOUT_S
        while self.read() != text:
            if time.monotonic() > deadline:
                raise InjectionError(f"{self.name} did not take the clipboard within {CONFIRM_TIMEOUT_S:g} s")
            time.sleep(0.005)

    def clear(self) -> None:
        if self.commands.clear:
            run_tool(self.commands.clear, forks_owner=True)
        else:
            self.write("")

    def wait_pasted(self, timeout: float) -> float | None:
        return None


def tool_clipboard(session: str) -> ToolClipboard:
    """The first clipboard tool installed for this session; InjectionError naming what to install."""
    names = SESSION_TOOLS.get(session, ())
    for name in names:
        if have_tool(TOOLS[name].write[0]) and have_tool(TOOLS[name].read[0]):
            return ToolClipboard(TOOLS[name])
    wanted = " or ".join(names) or "a graphical session"
    raise InjectionError(f"no clipboard tool: install {wanted}")
