"""A Tk window that stands in for the user's focused application in desktop tests.

It holds one Text widget and writes the widget's full contents to `--out` (atomically) on every change, so a
test reads exactly what a user would see. `--terminal` makes it behave like a terminal emulator: ctrl+v does
not paste (it types a literal "^V"), ctrl+shift+v does. `--class` sets the WM_CLASS the injector inspects.

    python target_window.py --title NAME --out FILE [--class NAME] [--terminal]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tkinter as tk
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    # Tk hands back characters outside the BMP as UTF-16 surrogates: join the pairs, mark lone ones with
    # U+FFFD, so a garbled emoji shows up in the file instead of crashing the window.
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class TargetWindow:
    def __init__(self, title: str, out: Path, class_name: str, terminal: bool) -> None:
        self.out = out
        self.root = tk.Tk(className=class_name)
        self.root.title(title)
        self.root.geometry("800x300+10+10")
        self.text = tk.Text(self.root, undo=False)
        self.text.pack(fill="both", expand=True)
        self.text.bind("<<Modified>>", self._on_modified)
        if terminal:
            self._behave_like_terminal()
        self.text.focus_set()
        write_atomically(out, "")

    def _behave_like_terminal(self) -> None:
        def literal_ctrl_v(_event: tk.Event) -> str:
            self.text.insert("insert", "^V")
            return "break"

        def paste(_event: tk.Event) -> str:
            with contextlib.suppress(tk.TclError):  # an empty clipboard pastes nothing
                self.text.insert("insert", self.root.clipboard_get())
            return "break"

        self.text.bind("<Control-Key-v>", literal_ctrl_v)
        self.text.bind("<Control-Shift-Key-V>", paste)
        self.text.bind("<Control-Shift-Key-v>", paste)

    def _on_modified(self, _event: tk.Event) -> None:
        if not self.text.edit_modified():
            return
        write_atomically(self.out, self.text.get("1.0", "end-1c"))
        self.text.edit_modified(False)

    def run(self) -> None:
        self.root.mainloop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--title", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--class", dest="class_name", default="Onevoxtarget")
    parser.add_argument("--terminal", action="store_true")
    args = parser.parse_args()
    TargetWindow(args.title, args.out, args.class_name, args.terminal).run()


if __name__ == "__main__":
    main()
