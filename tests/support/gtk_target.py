"""A GTK3 text window that mirrors its buffer into a file on every change: the Wayland-native target of the
sway and GNOME Mutter tests (run with the system python3, which has python3-gi, and GDK_BACKEND=wayland;
tests/support/gtk_window.py starts it and reads it back).

    /usr/bin/python3 gtk_target.py --title NAME --out FILE [--app-id ID] [--terminal]

`--app-id` sets the Wayland app_id (what sway reports for the window; terminals are told apart by it).
`--terminal` makes it behave like a terminal emulator: ctrl+v does not paste (it types a literal "^V"),
ctrl+shift+v does (as tests/support/target_window.py does on X11).

The file is written whole (write a temporary file, then rename) so a reader never sees half a text; it is
created empty once the window is mapped, which tells the test the window is up; FILE.focused exists while
the window has the keyboard focus. Deliberately standalone:
only the standard library and gi, no onevox, no pytest.
"""

from __future__ import annotations

import argparse
import os
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")  # else Gdk alone loads the newest (4.0 where GTK 4 is installed)
from gi.repository import Gdk, GLib, Gtk  # noqa: E402


def behave_like_terminal(view: Gtk.TextView) -> None:
    def on_key(_view: Gtk.TextView, event: Gdk.EventKey) -> bool:
        ctrl = bool(event.state & Gdk.ModifierType.CONTROL_MASK)
        shift = bool(event.state & Gdk.ModifierType.SHIFT_MASK)
        if ctrl and event.keyval in (Gdk.KEY_v, Gdk.KEY_V):
            if shift:
                view.emit("paste-clipboard")
            else:
                view.get_buffer().insert_at_cursor("^V")
            return True
        return False

    view.connect("key-press-event", on_key)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--title", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--app-id", default="onevox-target")
    parser.add_argument("--terminal", action="store_true")
    args = parser.parse_args()
    GLib.set_prgname(args.app_id)  # GTK 3 gives the window the program name as its Wayland app_id

    def save(buffer: Gtk.TextBuffer) -> None:
        text = buffer.get_text(buffer.get_start_iter(), buffer.get_end_iter(), True)
        tmp = args.out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, args.out)

    window = Gtk.Window(title=args.title)
    window.set_default_size(900, 500)
    view = Gtk.TextView()
    view.set_wrap_mode(Gtk.WrapMode.WORD)
    buffer = view.get_buffer()
    if args.terminal:
        behave_like_terminal(view)
    buffer.connect("changed", save)
    window.add(view)
    window.connect("destroy", Gtk.main_quit)
    window.connect("map-event", lambda *_: save(buffer))
    focused = args.out + ".focused"  # exists while the window has the keyboard focus

    def on_focus(_window: Gtk.Window, event: Gdk.EventFocus) -> bool:
        if event.in_:
            open(focused, "w").close()
        elif os.path.exists(focused):
            os.unlink(focused)
        return False

    window.connect("focus-in-event", on_focus)
    window.connect("focus-out-event", on_focus)
    window.show_all()
    view.grab_focus()
    Gtk.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
