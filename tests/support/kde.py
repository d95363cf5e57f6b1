"""A headless KDE Plasma Wayland compositor for tests: KWin 5.27 (`kwin_wayland --virtual`) on its own D-Bus
session bus, GTK3 target windows.

    with HeadlessKWin.start() as kwin:
        window = kwin.open_target("editor")
        monkeypatch.setattr(os, "environ", {**os.environ, **kwin.env})
        PasteInjector(cfg, "wayland").inject("hello")   # wl-copy + ctrl+v through KWin's fake input
        window.wait_for_text("hello")

The arrangement, as found on Debian 12 (kwin-wayland 4:5.27.5): the test process (root) starts a private
`dbus-daemon --session` in a fresh folder, then `kwin_wayland --virtual --no-lockscreen --socket NAME` as
root on that bus (KWin runs as root; no second user is needed). Two things of this machine are handled here:
- /usr/bin/kwin_wayland carries the file capability cap_sys_resource=ep; where the bounding set lacks it (a
  container) exec fails with EPERM ("Operation not permitted"). A copy of the binary (cp drops the
  capability) runs; KWin only uses the capability to raise its own limits.
- KWin offers org_kde_kwin_fake_input only to an executable named by a .desktop file with
  X-KDE-Wayland-Interfaces, read when KWin starts: the rig writes one for the tests' Python into the fresh
  HOME before starting KWin (which builds its service cache there).
Unlike Mutter's headless seat, KWin's seat has a keyboard from the start: the first key is not lost.

Everything started is remembered by PID and stopped in reverse order (never by name).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from onevox.inject.kwin_fake_input import install_desktop_entry
from tests.support.gtk_window import GTK_ENV, GtkWindow, gtk_target_argv, missing_gtk

KWIN = "kwin_wayland"
REQUIRED_PROGRAMS = (KWIN, "dbus-daemon", "wl-copy", "wl-paste")
# the portal frontend and KDE's backend (Debian: xdg-desktop-portal, xdg-desktop-portal-kde, qtwayland5)
PORTAL_PROGRAMS = {"xdg-desktop-portal": ("/usr/libexec/xdg-desktop-portal", "/usr/lib/xdg-desktop-portal"),
                   "xdg-desktop-portal-kde": ("/usr/lib/x86_64-linux-gnu/libexec/xdg-desktop-portal-kde",
                                              "/usr/libexec/xdg-desktop-portal-kde",
                                              "/usr/lib/xdg-desktop-portal-kde")}
QT_WAYLAND_PLUGIN = "libqwayland-generic.so"
KDE_PORTAL_NAME = "org.freedesktop.impl.portal.desktop.kde"
GLOBAL_SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
START_TIMEOUT_S = 30.0


class KWinError(RuntimeError):
    """The headless KWin could not be set up (a test environment problem, not a product failure)."""


def missing_programs() -> list[str]:
    """What the headless KWin needs that is not installed, GTK's Python bindings included."""
    return [p for p in REQUIRED_PROGRAMS if shutil.which(p) is None] + missing_gtk()


def portal_program(name: str) -> str | None:
    """Where the portal program `name` is installed (they live outside PATH), or None."""
    return next((path for path in PORTAL_PROGRAMS[name] if os.access(path, os.X_OK)), None)


def missing_portal_programs() -> list[str]:
    """What running the real GlobalShortcuts portal on the headless KWin needs that is not installed."""
    missing = [name for name in PORTAL_PROGRAMS if portal_program(name) is None]
    plugins = ("/usr/lib/x86_64-linux-gnu/qt5/plugins/platforms", "/usr/lib/qt5/plugins/platforms")
    if not any(os.path.exists(os.path.join(folder, QT_WAYLAND_PLUGIN)) for folder in plugins):
        missing.append("qtwayland5 (Qt's Wayland platform plugin, which xdg-desktop-portal-kde needs)")
    return missing


def _wait(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise KWinError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


class HeadlessKWin:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.runtime = root / "run"
        self.home = root / "home"
        self.bus_address = f"unix:path={root / 'bus'}"
        self.wayland_display = f"onevox-{uuid.uuid4().hex[:8]}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    @property
    def env(self) -> dict[str, str]:
        """What a client of this desktop needs in its environment."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.bus_address, "WAYLAND_DISPLAY": self.wayland_display,
                "XDG_RUNTIME_DIR": str(self.runtime), "XDG_SESSION_TYPE": "wayland",
                "XDG_CURRENT_DESKTOP": "KDE", "HOME": str(self.home)}

    def child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env.update(self.env, NO_AT_BRIDGE="1", QT_LOGGING_RULES="kwin_core.debug=true")
        return env

    @classmethod
    @contextlib.contextmanager
    def start(cls, *, authorise: bool = True) -> Iterator[HeadlessKWin]:
        """authorise=False: no .desktop file for the tests' Python (KWin must refuse it fake input)."""
        root = Path(tempfile.mkdtemp(prefix="onevox-kwin-"))  # short: socket paths are limited to 108 bytes
        kwin = cls(root)
        try:
            kwin._start(authorise)
            yield kwin
        finally:
            kwin.stop()
            shutil.rmtree(root, ignore_errors=True)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.root / f"{name}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, env=env, cwd=self.root, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def log_tail(self, lines: int = 15) -> str:
        parts = []
        for log in self.logs:
            with contextlib.suppress(OSError):
                tail = log.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {log.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def kwin_log(self) -> str:
        return (self.root / "kwin.log").read_text(errors="replace")

    def _start(self, authorise: bool) -> None:
        self.runtime.mkdir(mode=0o700)
        self.home.mkdir(mode=0o700)
        if authorise:
            install_desktop_entry(self.home)
        env = self.child_env()
        self._spawn("dbus", ["dbus-daemon", "--config-file=/usr/share/dbus-1/session.conf", "--nofork",
                             "--nopidfile", f"--address={self.bus_address}"], env)
        _wait(lambda: (self.root / "bus").exists(), START_TIMEOUT_S, "the D-Bus session bus")
        binary = self.root / KWIN  # a copy without the file capability (see the module's docstring)
        shutil.copy(shutil.which(KWIN) or KWIN, binary)
        argv = [str(binary), "--virtual", "--no-lockscreen", "--width", "1280", "--height", "720", "--socket",
                self.wayland_display]
        kwin = self._spawn("kwin", argv, env)
        try:
            _wait(lambda: kwin.poll() is not None or (self.runtime / self.wayland_display).exists(),
                  START_TIMEOUT_S, "KWin's Wayland socket")
        except Exception as exc:
            raise KWinError(f"{exc}\n{self.log_tail()}") from exc
        if kwin.poll() is not None:
            raise KWinError(f"kwin_wayland exited with {kwin.returncode}\n{self.log_tail()}")

    def start_portal(self) -> None:
        """xdg-desktop-portal-kde, then xdg-desktop-portal (KDE's backend found through kde.portal's
        UseIn=KDE), both started by hand: D-Bus activation from this bare bus would start the KDE backend
        without WAYLAND_DISPLAY, and it aborts. Returns once the portal exports GlobalShortcuts."""
        env = {**self.child_env(), "QT_QPA_PLATFORM": "wayland"}
        backend_path = portal_program("xdg-desktop-portal-kde") or "xdg-desktop-portal-kde"
        backend = self._spawn("xdp-kde", [backend_path], env)
        try:
            _wait(lambda: backend.poll() is not None or self._has_name(KDE_PORTAL_NAME), START_TIMEOUT_S,
                  "xdg-desktop-portal-kde on the bus")
            if backend.poll() is not None:
                raise KWinError(f"xdg-desktop-portal-kde exited with {backend.returncode}")
            frontend = self._spawn("xdp", [portal_program("xdg-desktop-portal") or "xdg-desktop-portal"], env)
            _wait(lambda: frontend.poll() is not None or self._portal_interfaces(), START_TIMEOUT_S,
                  "xdg-desktop-portal's GlobalShortcuts interface")
            if frontend.poll() is not None:
                raise KWinError(f"xdg-desktop-portal exited with {frontend.returncode}")
        except KWinError as exc:
            raise KWinError(f"{exc}\n{self.log_tail()}") from exc

    def _has_name(self, name: str) -> bool:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        try:
            with open_dbus_connection(self.bus_address) as conn:
                return bool(conn.send_and_get_reply(message_bus.NameHasOwner(name), timeout=2).body[0])
        except (OSError, TimeoutError):
            return False

    def _portal_interfaces(self) -> bool:
        from onevox.desktop.portals import introspect_portal

        # the name first: introspecting an unowned name would have the bus activate the portal itself
        return self._has_name("org.freedesktop.portal.Desktop") and GLOBAL_SHORTCUTS in (
            introspect_portal(self.bus_address, timeout=2) or ())

    def portal_log(self) -> str:
        logs = [self.root / f"{name}.log" for name in ("xdp-kde", "xdp")]
        return "\n".join(log.read_text(errors="replace") for log in logs if log.exists())

    def open_target(self, title: str) -> GtkWindow:
        """A GTK3 window, focused (KWin focuses a new window), with an empty text file once it is up."""
        path = self.root / f"{title}.txt"
        proc = self._spawn(f"window-{title}", gtk_target_argv(title, path), {**self.child_env(), **GTK_ENV})
        try:
            _wait(lambda: path.exists() or proc.poll() is not None, START_TIMEOUT_S, f"window {title!r}")
        except Exception as exc:
            raise KWinError(f"{exc}\n{self.log_tail()}") from exc
        if proc.poll() is not None:
            raise KWinError(f"the GTK window exited with {proc.returncode}\n{self.log_tail()}")
        time.sleep(0.3)  # mapped and focused a moment after its first buffer write
        return GtkWindow(title, path, proc)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs.clear()
