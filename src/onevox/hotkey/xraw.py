"""Watching a key without holding the keyboard: XInput2 raw key events on the root window (python-xlib).

While a push-to-talk key is held the X11 listener gives the keyboard back to the focused window, so that live
mode's words reach it; a released key is then no longer reported to us by the grab. Raw events are: they
come from the devices themselves, whatever window has the focus and whoever grabs the keyboard (a client
that announces XI 2.1 or later gets them even during another client's grab). The server sends none for
auto-repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from onevox.errors import HotkeyError

if TYPE_CHECKING:
    from Xlib.display import Display
    from Xlib.protocol.rq import Event

GENERIC_EVENT = 35  # X's GenericEvent type, which carries every XI2 event
XI_EXTENSION = "XInputExtension"
XI_MIN_VERSION = (2, 1)  # from 2.1 raw events come even while another client grabs the keyboard


@dataclass(frozen=True)
class RawKey:
    pressed: bool
    keycode: int
    time_ms: int


class RawKeyWatch:
    """Raw key presses and releases of one display connection, selected on and off (only while a hotkey is
    held: nobody's typing is watched the rest of the time)."""

    def __init__(self, display: Display) -> None:
        from Xlib.ext import xinput
        from Xlib.protocol import rq

        self.display = display
        if not display.has_extension(XI_EXTENSION):
            raise HotkeyError("the X server has no XInput extension, so a held hotkey cannot be watched")
        self.opcode = display.display.get_extension_major(XI_EXTENSION)
        reply = xinput.XIQueryVersion(display=display.display, opcode=self.opcode,
                                      major_version=2, minor_version=2)
        if (reply.major_version, reply.minor_version) < XI_MIN_VERSION:
            raise HotkeyError(f"the X server's XInput is {reply.major_version}.{reply.minor_version}; a held "
                              "hotkey needs 2.1 or later")
        # python-xlib leaves raw events as bytes: their head, as the XI2 protocol lays it out
        raw = rq.Struct(rq.Card16("deviceid"), rq.Card32("time"), rq.Card32("detail"),
                        rq.Card16("sourceid"), rq.Card16("valuators_len"), rq.Card32("flags"))
        for evtype in (xinput.RawKeyPress, xinput.RawKeyRelease):
            display.ge_add_event_data(self.opcode, evtype, raw)
        self.selected = False

    def select(self, on: bool) -> None:
        from Xlib.ext import xinput

        mask = xinput.RawKeyPressMask | xinput.RawKeyReleaseMask if on else 0
        self.display.screen().root.xinput_select_events([(xinput.AllMasterDevices, mask)])
        self.selected = on

    def parse(self, event: Event) -> RawKey | None:
        """The raw key event this is, or None for any other event."""
        from Xlib.ext import xinput

        if event.type != GENERIC_EVENT or event.extension != self.opcode:
            return None
        if event.evtype not in (xinput.RawKeyPress, xinput.RawKeyRelease):
            return None
        return RawKey(event.evtype == xinput.RawKeyPress, event.data.detail, event.data.time)
