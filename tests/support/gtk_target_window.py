"""A GTK3 window that stands in for the user's application on a Wayland desktop (GNOME Mutter in tests).

It holds one TextView and writes the buffer's full text to `--out` (atomically) on every change. Run it with
the system Python (/usr/bin/python3, which has python3-gi) and GDK_BACKEND=wayland.

    /usr/bin/python3 gtk_target_window.py --title NAME --out FILE
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import gi  # type: ignore[import-not-found]

gi.require_version("Gtk", "3.0")
from gi.repository import Gtk  # type: ignore[import-not-found]  # noqa: E402


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--title", required=True)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()

    window = Gtk.Window(title=args.title)
    window.set_default_size(800, 300)
    view = Gtk.TextView()
    buffer = view.get_buffer()

    def changed(buf: Gtk.TextBuffer) -> None:
        start, end = buf.get_bounds()
        write_atomically(args.out, buf.get_text(start, end, True))

    buffer.connect("changed", changed)
    window.add(view)
    window.connect("destroy", Gtk.main_quit)
    window.show_all()
    view.grab_focus()
    changed(buffer)
    Gtk.main()


if __name__ == "__main__":
    main()
