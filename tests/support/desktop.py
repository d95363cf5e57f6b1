"""A virtual X desktop for tests: Xvfb on a free display and Tk target windows that record their text.

    with VirtualDesktop.start(tmp_path, repeat=False) as desktop:
        window = desktop.open_target("editor")
        with desktop.activated():        # this process now uses the virtual display
            ...inject...
        window.wait_for_text("hello")

Everything started is remembered by PID and stopped in reverse order (never by name). Xvfb picks the display
number itself (-displayfd), so tests running side by side do not collide.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

TARGET_APP = Path(__file__).with_name("target_window.py")
REQUIRED_TOOLS = ("Xvfb", "xdpyinfo", "xdotool")
START_TIMEOUT_S = 15.0


class DesktopError(RuntimeError):
    """The virtual desktop could not be set up (a test environment problem, not a product failure)."""


def missing_tools(extra: Sequence[str] = ()) -> list[str]:
    """Programs the virtual desktop needs that are not installed (tests skip when this is not empty)."""
    return [tool for tool in (*REQUIRED_TOOLS, *extra) if shutil.which(tool) is None]


def wait_until(check: Callable[[], object], timeout: float, what: str, interval: float = 0.01) -> object:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class MirroredWindow:
    """A test window (Tk here, GTK on the Wayland rigs: gtk_window.py) that mirrors its whole text into
    `path` on every change; `proc` is its program."""

    TEXT_TIMEOUT_S = 5.0  # wait_for_text's default

    def __init__(self, title: str, path: Path, proc: subprocess.Popen) -> None:
        self.title = title
        self.path = path
        self.proc = proc

    def text(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def wait_for_text(self, expected: str, timeout: float | None = None) -> str:
        """Wait until the window holds exactly `expected`; on timeout the assertion shows what it holds."""
        try:
            wait_until(lambda: self.text() == expected, self.TEXT_TIMEOUT_S if timeout is None else timeout,
                       f"{expected!r} in {self.title}", interval=0.005)
        except TimeoutError:
            raise AssertionError(f"{self.title} holds {self.text()!r}, expected {expected!r}") from None
        return self.text()

    def wait_for_change(self, old: str, timeout: float = 5.0, settle: float = 0.2) -> str:
        """Wait until the text differs from `old`, then until it stops changing for `settle` seconds."""
        wait_until(lambda: self.text() != old, timeout, f"a change in {self.title}")
        return self.settled_text(settle)

    def settled_text(self, quiet_s: float = 0.5) -> str:
        """The text once it has not changed for `quiet_s` (to show that nothing more arrives)."""
        last, since = self.text(), time.monotonic()
        while time.monotonic() - since < quiet_s:
            time.sleep(0.02)
            now = self.text()
            if now != last:
                last, since = now, time.monotonic()
        return last


class TargetWindow(MirroredWindow):
    """A Tk window (target_window.py) on the X desktop."""

    def __init__(self, desktop: VirtualDesktop, title: str, path: Path, proc: subprocess.Popen, wid: str):
        super().__init__(title, path, proc)
        self.desktop = desktop
        self.wid = wid

    def focus(self) -> None:
        self.desktop.xdotool("windowfocus", "--sync", self.wid)
        wait_until(lambda: self.desktop.xdotool("getwindowfocus").strip() == self.wid, 5.0,
                   f"focus on window {self.title}")


class VirtualDesktop:
    def __init__(self, work_dir: Path, display: str, env: dict[str, str]) -> None:
        self.work_dir = work_dir
        self.display = display  # e.g. ":3"
        self.env = env  # environment for programs on this desktop
        self.procs: list[subprocess.Popen] = []
        self.windows: list[TargetWindow] = []

    @classmethod
    def start(cls, work_dir: Path, *, repeat: bool = True, screen: str = "1280x800x24") -> VirtualDesktop:
        """Start Xvfb (repeat=False passes -r: no key auto-repeat) and wait until it answers."""
        missing = missing_tools()
        if missing:
            raise DesktopError(f"not installed: {', '.join(missing)}")
        work_dir.mkdir(parents=True, exist_ok=True)
        read_fd, write_fd = os.pipe()
        # -noreset: by default the server resets when its last client leaves, dropping whoever connects then
        argv = ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp", "-noreset"]
        if not repeat:
            argv.append("-r")
        log = open(work_dir / "xvfb.log", "wb")  # noqa: SIM115 - lives as long as the server
        proc = subprocess.Popen(argv, pass_fds=(write_fd,), stdout=log, stderr=log, start_new_session=True)
        os.close(write_fd)
        try:
            number = _read_display_number(read_fd, proc)
        finally:
            os.close(read_fd)
            log.close()
        env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
        env["DISPLAY"] = f":{number}"
        desktop = cls(work_dir, f":{number}", env)
        desktop.procs.append(proc)
        try:
            wait_until(lambda: desktop.run(["xdpyinfo"], check=False).returncode == 0, START_TIMEOUT_S,
                       "xdpyinfo to answer")
        except BaseException:
            desktop.stop()
            raise
        return desktop

    def __enter__(self) -> VirtualDesktop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @contextlib.contextmanager
    def activated(self) -> Iterator[VirtualDesktop]:
        """Point this process at the desktop (DISPLAY set, Wayland variables removed) until the block ends."""
        saved = {k: os.environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
        os.environ["DISPLAY"] = self.display
        os.environ.pop("WAYLAND_DISPLAY", None)
        os.environ.pop("XDG_SESSION_TYPE", None)
        try:
            yield self
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def run(self, argv: Sequence[str], *, check: bool = True, input: bytes | None = None,
            timeout: float = 10.0) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), env=self.env, capture_output=True, check=check, input=input,
                              timeout=timeout)

    def xdotool(self, *args: str) -> str:
        return self.run(["xdotool", *args]).stdout.decode()

    def spawn(self, argv: Sequence[str], **kwargs) -> subprocess.Popen:
        """Start a program on this desktop; it is stopped (in reverse order) by stop()."""
        proc = subprocess.Popen(list(argv), env=self.env, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def open_target(self, name: str = "target", *, class_name: str | None = None, terminal: bool = False,
                    focus: bool = True) -> TargetWindow:
        """Start a Tk target window titled uniquely after `name`, wait for it and (by default) focus it."""
        safe = re.sub(r"[^A-Za-z0-9_-]", "-", name)  # the title is a regular expression for xdotool
        title = f"{safe}-{uuid.uuid4().hex[:8]}"
        path = self.work_dir / f"{title}.txt"
        argv = [sys.executable, str(TARGET_APP), "--title", title, "--out", str(path)]
        if class_name:
            argv += ["--class", class_name]
        if terminal:
            argv.append("--terminal")
        err = open(self.work_dir / f"{title}.err", "wb")  # noqa: SIM115 - lives as long as the window
        proc = self.spawn(argv, stdout=err, stderr=err)
        err.close()
        wid = self.run(["xdotool", "search", "--sync", "--name", f"^{title}$"], timeout=START_TIMEOUT_S)
        window = TargetWindow(self, title, path, proc, wid.stdout.decode().split()[0])
        wait_until(path.exists, START_TIMEOUT_S, f"{title} to write its file")
        self.windows.append(window)
        if focus:
            window.focus()
        return window

    def clipboard(self) -> str | None:
        """The CLIPBOARD's text as xclip sees it (None: empty or not text)."""
        done = self.run(["xclip", "-selection", "clipboard", "-out", "-target", "UTF8_STRING"], check=False)
        return done.stdout.decode("utf-8") if done.returncode == 0 else None

    def set_clipboard(self, text: str) -> None:
        """Copy `text` the way an application would (xclip keeps owning it until the next copy)."""
        # xclip's owner process inherits our output: pipes would stay open as long as it lives
        subprocess.run(["xclip", "-selection", "clipboard", "-in"], env=self.env, input=text.encode("utf-8"),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=10.0)
        # xclip returns before its background child owns the clipboard
        wait_until(lambda: self.clipboard() == text, 5.0, "xclip to own the clipboard")

    def screenshot(self, path: Path) -> Path:
        self.run(["import", "-window", "root", str(path)])
        return path

    def stop(self) -> None:
        for proc in reversed(self.procs):
            _stop(proc)
        self.procs.clear()


def _read_display_number(fd: int, proc: subprocess.Popen) -> int:
    data = b""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not data.endswith(b"\n"):
        if proc.poll() is not None:
            raise DesktopError(f"Xvfb exited with status {proc.returncode}")
        if time.monotonic() > deadline:
            _stop(proc)
            raise DesktopError("Xvfb did not report its display number")
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 64)
            if not chunk:
                raise DesktopError("Xvfb closed -displayfd without a display number")
            data += chunk
    return int(data.strip())


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5.0)
