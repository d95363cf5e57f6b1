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
from collections.abc import Iterator

import pytest

from onevox.inject.kwin_fake_input import install_desktop_entry
from tests.support.gtk_window import missing_gtk
from tests.support.headless import HeadlessDesktop
from tests.support.requirements import INSTALL_HINT

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


class HeadlessKWin(HeadlessDesktop):
    error = KWinError
    prefix = "onevox-kwin-"
    desktop = "KDE"

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "HOME": str(self.home)}

    def child_env(self) -> dict[str, str]:
        return {**super().child_env(), "QT_LOGGING_RULES": "kwin_core.debug=true"}

    def kwin_log(self) -> str:
        return (self.root / "kwin.log").read_text(errors="replace")

    def _start(self, **options: object) -> None:
        """authorise=False: no .desktop file for the tests' Python (KWin must refuse it fake input)."""
        self.home.mkdir(mode=0o700)
        if options.get("authorise", True):
            install_desktop_entry(self.home)
        env = self._start_bus()
        binary = self.root / KWIN  # a copy without the file capability (see the module's docstring)
        shutil.copy(shutil.which(KWIN) or KWIN, binary)
        argv = [str(binary), "--virtual", "--no-lockscreen", "--width", "1280", "--height", "720", "--socket",
                self.wayland_display]
        kwin = self._spawn("kwin", argv, env)
        self._wait_started(kwin, (self.runtime / self.wayland_display).exists, "KWin's Wayland socket")
        # its D-Bus name comes a moment later (focus lookups and kglobalaccel are asked there)
        self._wait_started(kwin, lambda: self.has_name("org.kde.KWin"), "KWin on the session bus")

    def start_portal(self) -> None:
        """xdg-desktop-portal-kde, then xdg-desktop-portal (KDE's backend found through kde.portal's
        UseIn=KDE), both started by hand: D-Bus activation from this bare bus would start the KDE backend
        without WAYLAND_DISPLAY, and it aborts. Returns once the portal exports GlobalShortcuts."""
        env = {**self.child_env(), "QT_QPA_PLATFORM": "wayland"}
        backend_path = portal_program("xdg-desktop-portal-kde") or "xdg-desktop-portal-kde"
        backend = self._spawn("xdp-kde", [backend_path], env)
        self._wait_started(backend, lambda: self.has_name(KDE_PORTAL_NAME),
                           "xdg-desktop-portal-kde on the bus")
        frontend = self._spawn("xdp", [portal_program("xdg-desktop-portal") or "xdg-desktop-portal"], env)
        self._wait_started(frontend, self._portal_interfaces,
                           "xdg-desktop-portal's GlobalShortcuts interface")

    def _portal_interfaces(self) -> bool:
        from onevox.desktop.portals import introspect_portal

        # the name first: introspecting an unowned name would have the bus activate the portal itself
        return self.has_name("org.freedesktop.portal.Desktop") and GLOBAL_SHORTCUTS in (
            introspect_portal(self.bus_address, timeout=2) or ())

    def portal_log(self) -> str:
        logs = [self.root / f"{name}.log" for name in ("xdp-kde", "xdp")]
        return "\n".join(log.read_text(errors="replace") for log in logs if log.exists())


@contextlib.contextmanager
def kwin_for_tests(*, portal: bool = False, authorise: bool = True) -> Iterator[HeadlessKWin]:
    """A headless KWin (with the desktop portal on it if `portal`; without the fake-input authorisation for
    the tests' Python unless `authorise`) for a test module; a missing program fails the test with what to
    install, never skips it."""
    missing = missing_programs() + (missing_portal_programs() if portal else [])
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}; {INSTALL_HINT}")
    with HeadlessKWin.start(authorise=authorise) as desktop:
        if portal:
            desktop.start_portal()
        yield desktop
