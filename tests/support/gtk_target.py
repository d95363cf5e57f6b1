"""A GTK3 text window that mirrors its buffer into a file on every change: the Wayland-native target of the
sway tests (run with the system python3, which has python3-gi, and GDK_BACKEND=wayland).

    /usr/bin/python3 gtk_target.py --title NAME --out FILE

The file is written whole (write a temporary file, then rename) so a reader never sees half a text; it is
created empty once the window is mapped, which tells the test the window is up. Deliberately standalone:
only the standard library and gi, no onevox, no pytest.
"""

from __future__ import annotations

import argparse
import os
import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import Gtk  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--title", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

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
    buffer.connect("changed", save)
    window.add(view)
    window.connect("destroy", Gtk.main_quit)
    window.connect("map-event", lambda *_: save(buffer))
    window.show_all()
    view.grab_focus()
    Gtk.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
