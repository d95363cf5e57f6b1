"""The recording indicator on Wayland compositors with wlr-layer-shell (sway, Hyprland, river, KDE Plasma):
the window is drawn by layer_shell_window.py, run with the system's python3 (GTK 3 and gtk-layer-shell come
from the system), and this part feeds it what to show.

Like the X11 indicator it works out the view from events (view.IndicatorModel) on its own thread; `handle`
only queues. The helper answers each frame with a line ("shown STATE TEXT" / "hidden"), logged at debug level.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from onevox.feedback.indicator import QueuedIndicator
from onevox.feedback.view import IndicatorView

log = logging.getLogger(__name__)

WINDOW_PROGRAM = Path(__file__).with_name("layer_shell_window.py")
LAYER_SHELL = "zwlr_layer_shell_v1"
SYSTEM_PYTHONS = ("/usr/bin/python3",)  # where python3-gi lives; a venv's python3 does not have it
START_TIMEOUT_S = 10.0
PACKAGES = "python3-gi gir1.2-gtk-3.0 gir1.2-gtklayershell-0.1"
_CHECK = "import gi; gi.require_version('Gtk', '3.0'); gi.require_version('GtkLayerShell', '0.1')"


def system_python() -> str | None:
    for path in SYSTEM_PYTHONS:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("python3")


def layer_shell_unavailable(environ: Mapping[str, str], globals_: tuple[str, ...] | None) -> str | None:
    """Why a layer-shell indicator cannot run here (None: it can). `globals_`: what the compositor announces
    (None: unknown)."""
    if not environ.get("WAYLAND_DISPLAY"):
        return "not a Wayland session"
    if globals_ is not None and LAYER_SHELL not in globals_:
        return "the compositor has no layer-shell (GNOME's Mutter has none)"
    python = system_python()
    if python is None:
        return "no system python3 to run the indicator's window"
    try:
        done = subprocess.run([python, "-c", _CHECK], capture_output=True, timeout=10.0, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{python} cannot run: {exc}"
    if done.returncode != 0:
        return f"GTK's layer-shell is not installed for {python} (sudo apt install {PACKAGES})"
    return None


class LayerShellIndicator(QueuedIndicator):
    """The indicator as a layer-shell surface, drawn by a GTK helper process (layer_shell_window.py)."""

    name = "indicator-layer-shell"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.environ = dict(os.environ if environ is None else environ)
        self.shown: list[str] = []  # the helper's answers, newest last (tests, debugging)
        self._proc: subprocess.Popen[bytes] | None = None
        self._answered = threading.Event()  # the window said "ready", or exited first
        self._ready = False

    def start(self) -> None:
        """Start the thread, which starts the window: the daemon does not wait for GTK (events that arrive
        meanwhile are queued and shown once it is up)."""
        self._thread.start()

    def _open(self) -> bool:
        python = system_python()
        if python is None:
            log.warning("no recording indicator: no system python3 to run its window")
            return False
        try:
            self._proc = subprocess.Popen([python, str(WINDOW_PROGRAM)], env=self.environ,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            log.warning("no recording indicator: cannot start its window (%s)", exc)
            return False
        threading.Thread(target=self._read, name="onevox-indicator-answers", daemon=True).start()
        self._answered.wait(START_TIMEOUT_S)
        if not self._ready:
            log.warning("no recording indicator: its layer-shell window did not start: %s", self._stderr())
            self._end()
            return False
        log.info("recording indicator: a layer-shell surface on %s", self.environ.get("WAYLAND_DISPLAY"))
        return True

    def close(self) -> None:
        super().close()
        self._end()

    def _run(self) -> None:
        if not self._open():
            return
        while True:
            hide_at = self.model.hide_at
            changed = self._next_changes(None if hide_at is None else max(0.0, hide_at - time.monotonic()))
            if changed is None or (changed and not self._send(self.model.view)):
                return

    def _send(self, view: IndicatorView) -> bool:
        proc = self._proc
        if proc is None or proc.stdin is None:
            return False
        line = json.dumps({"visible": view.visible, "state": view.state, "text": view.text})
        try:
            proc.stdin.write(line.encode() + b"\n")
            proc.stdin.flush()
        except OSError as exc:  # the window's process died (the compositor went away)
            log.warning("recording indicator stopped: its window exited (%s) %s", exc, self._stderr())
            return False
        return True

    def _read(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if line == "ready":
                self._ready = True
                self._answered.set()
                continue
            self.shown.append(line)
            log.debug("indicator: %s", line)
        self._answered.set()  # it exited

    def _stderr(self) -> str:
        """The last of what the window's process said on stderr, once it has exited."""
        proc = self._proc
        if proc is None or proc.stderr is None:
            return ""
        try:
            proc.wait(1.0)
        except subprocess.TimeoutExpired:
            return ""
        lines = proc.stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {proc.returncode}"

    def _end(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(2.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(2.0)
