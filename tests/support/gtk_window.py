"""The GTK3 target window of the Wayland rigs (headless sway, tests/support/wayland.py, and headless GNOME
Mutter, tests/support/gnome.py): how to start gtk_target.py, and `GtkWindow`, the test's handle on it.

    argv = gtk_target_argv(title, path, app_id="foot", terminal=True)   # run with GTK_ENV in the rig's env
    window = GtkWindow(title, path, proc, focus=...)                  # once `path` exists (the window mapped)
    window.wait_for_text("hello")

The window mirrors its whole text into `path` on every change, so the test reads it back with `text()`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.support.desktop import MirroredWindow

SYSTEM_PYTHON = "/usr/bin/python3"  # has python3-gi; the GTK window runs with it (the tests' Python may not)
GTK_TARGET = Path(__file__).with_name("gtk_target.py")
GTK_ENV = {"GDK_BACKEND": "wayland", "NO_AT_BRIDGE": "1"}  # native Wayland, no accessibility bus


def missing_gtk() -> list[str]:
    """["python3-gi ..."] when the system python cannot load GTK 3, else []."""
    if Path(SYSTEM_PYTHON).exists():
        probe = subprocess.run([SYSTEM_PYTHON, "-c", "import gi; gi.require_version('Gtk', '3.0')"],
                               capture_output=True, check=False)
        if probe.returncode == 0:
            return []
    return [f"GTK 3 for {SYSTEM_PYTHON} (python3-gi, gir1.2-gtk-3.0)"]


def gtk_target_argv(title: str, out: Path, *, app_id: str = "onevox-target",
                    terminal: bool = False) -> list[str]:
    """gtk_target.py titled `title`, mirroring its text into `out`; `app_id`: its Wayland app_id; `terminal`:
    ctrl+v types "^V" and ctrl+shift+v pastes, as in a terminal emulator."""
    argv = [SYSTEM_PYTHON, str(GTK_TARGET), "--title", title, "--out", str(out), "--app-id", app_id]
    return [*argv, "--terminal"] if terminal else argv


class GtkWindow(MirroredWindow):
    """A gtk_target.py window. `focus`: how the desktop focuses it (sway: swaymsg); None where the
    compositor focuses each new window itself and nothing else is asked of the test (Mutter)."""

    TEXT_TIMEOUT_S = 10.0

    def __init__(self, title: str, path: Path, proc: subprocess.Popen[bytes],
                 focus: Callable[[GtkWindow], None] | None = None) -> None:
        super().__init__(title, path, proc)
        self._focus = focus

    def focus(self) -> None:
        if self._focus is None:
            raise NotImplementedError("this desktop focuses a new window itself; there is no refocusing it")
        self._focus(self)

    def close(self) -> None:
        """End the window's program (the rig ends any left at its stop)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=5)
