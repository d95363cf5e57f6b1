"""A headless GNOME Shell session for tests: GNOME Shell 43 (Mutter inside it) with gnome-settings-daemon's
media-keys plugin, so that a custom shortcut (gsettings) runs its command when its keys are pressed, as on
a GNOME desktop.

    with HeadlessGnomeShell.start() as shell:
        env = shell.user_env(bin_dir)                # a login's environment
        shell.start_media_keys(env)
        shell.gsettings_applied(env, lines, path)    # doctor's gsettings lines, run as printed
        shell.press_chord([CONTROL_L, SHIFT_L, F9])  # GNOME Shell sees the accelerator, gsd runs the command

Set-up differences from the bare Mutter rig (gnome.py), found by trying:
- `gnome-shell --wayland --headless --no-x11 --virtual-monitor WxH` runs as root like Mutter. It needs a
  system bus: `/run/systemd/seats` exists in this container, so the shell takes the logind route, and with no
  system bus socket its start-up throws (`JS ERROR: Gio.IOErrorEnum: Could not connect: No such file or
  directory` in loginManager.js). A second private bus given as DBUS_SYSTEM_BUS_ADDRESS is enough (no logind
  on it: the shell only logs that).
- gsd-media-keys grabs accelerators through the shell (org.gnome.Shell.GrabAccelerators) and spawns a custom
  shortcut's command itself, with its own environment: that is the user's PATH and HOME here. It reads the
  shortcuts from dconf (dconf-service, D-Bus activated on the session bus), which gsettings writes.
- The keys come from the virtual keyboard of a RemoteDesktop session the desktop keeps open (gnome.py):
  GNOME Shell matches accelerators on those key events as on a physical keyboard's.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from jeepney import DBusAddress, Properties
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import DBusErrorResponse, unwrap_msg

from tests.support.gnome import HeadlessGnome
from tests.support.gtk_window import missing_gtk

MEDIA_KEYS = "/usr/libexec/gsd-media-keys"
REQUIRED_PROGRAMS = ("gnome-shell", "dbus-daemon", "gsettings", MEDIA_KEYS)
SHELL_NAME = "org.gnome.Shell"
MEDIA_KEYS_NAME = "org.gnome.SettingsDaemon.MediaKeys"
GRABBED = "Grab call completed!"  # gsd-media-keys' debug line once the shell has answered a grab

# X keysyms of the keys a test presses
CONTROL_L, SHIFT_L = 0xFFE3, 0xFFE1
F9 = 0xFFC6
ESCAPE = 0xFF1B


def missing_programs() -> list[str]:
    """What the headless GNOME Shell session needs that is not installed, GTK's Python bindings included."""
    return [p for p in REQUIRED_PROGRAMS if shutil.which(p) is None] + missing_gtk()


class HeadlessGnomeShell(HeadlessGnome):
    prefix = "onevox-shell-"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.system_bus_address = f"unix:path={root / 'sysbus'}"
        self.media_keys_log: Path | None = None
        self.started_s = 0.0  # how long GNOME Shell took to start (to its start-up overview)

    def child_env(self) -> dict[str, str]:
        return {**super().child_env(), "DBUS_SYSTEM_BUS_ADDRESS": self.system_bus_address}

    def _start(self, **options: object) -> None:
        env = self._start_bus()
        self._spawn("system-bus", ["dbus-daemon", "--config-file=/usr/share/dbus-1/session.conf", "--nofork",
                                   "--nopidfile", f"--address={self.system_bus_address}"], env)
        self.wait(lambda: (self.root / "sysbus").exists(), "the private system bus")
        began = time.monotonic()
        shell = self._spawn("gnome-shell", ["gnome-shell", "--wayland", "--headless", "--no-x11",
                                            "--virtual-monitor", "1280x720",
                                            f"--wayland-display={self.wayland_display}"], env)
        self._wait_started(shell, lambda: self.has_name(SHELL_NAME) and self._service_ready(), "GNOME Shell")
        self._keep_keyboard()
        # GNOME Shell opens the overview once it has started (its search field then has the keys, and a new
        # window is not focused): a user closes it with Escape before working
        self.wait(lambda: self._overview_active() is True, "GNOME Shell's start-up overview")
        self.started_s = time.monotonic() - began
        self.press_chord([ESCAPE], hold_s=0)
        self.wait(lambda: self._overview_active() is False, "the overview to close on Escape")

    def _overview_active(self) -> bool | None:
        try:
            with open_dbus_connection(self.bus_address) as conn:
                shell = DBusAddress("/org/gnome/Shell", bus_name=SHELL_NAME, interface=SHELL_NAME)
                return bool(unwrap_msg(conn.send_and_get_reply(Properties(shell).get("OverviewActive"),
                                                               timeout=2))[0][1])
        except (OSError, TimeoutError, DBusErrorResponse):
            return None

    def user_env(self, bin_dir: Path) -> dict[str, str]:
        """A login's environment in this session: the desktop's, with `bin_dir` (where onevox is) first on
        PATH, and the XDG folders at their defaults under HOME (dconf and onevox's config live there)."""
        env = {k: v for k, v in self.child_env().items()
               if not k.startswith(("XDG_CONFIG", "XDG_DATA", "XDG_CACHE", "XDG_STATE", "ONEVOX_", "PYTHON"))}
        return {**env, "PATH": f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"}

    def start_media_keys(self, env: dict[str, str]) -> None:
        """gsd-media-keys in the session with `env` (the commands of custom shortcuts inherit it)."""
        proc = self._spawn("gsd-media-keys", [MEDIA_KEYS], {**env, "G_MESSAGES_DEBUG": "media-keys-plugin"})
        self.media_keys_log = self.logs[-1]
        grabbed = lambda: self.has_name(MEDIA_KEYS_NAME) and GRABBED in self._media_keys_text()  # noqa: E731
        self._wait_started(proc, grabbed, "gsd-media-keys to grab its keys")

    def _media_keys_text(self) -> str:
        assert self.media_keys_log is not None, "start_media_keys first"
        return self.media_keys_log.read_text(errors="replace")

    def gsettings_applied(self, env: dict[str, str], lines: list[str], path: str) -> None:
        """Run `lines` (gsettings commands, as a user pastes them into a terminal), then wait until
        gsd-media-keys has re-grabbed the custom shortcut at `path` with its new keys."""
        seen = len(self._media_keys_text())
        for line in lines:
            argv = shlex.split(line)
            if argv[:1] != ["gsettings"]:
                raise self.error(f"not a gsettings line: {line!r}")
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=False)
            if done.returncode != 0:
                raise self.error(f"{line!r} failed ({done.returncode}): {done.stderr.strip()}")
        # gsd-media-keys takes up a custom shortcut once it has all of name, command and binding (doctor's
        # lines set the binding last), then asks the shell to grab it
        changed = re.compile(f"(Adding new custom key binding|Setting up custom keybinding) {re.escape(path)}"
                             + r"[\s\S]*" + re.escape(GRABBED))
        self.wait(lambda: changed.search(self._media_keys_text(), seen) is not None,
                  f"gsd-media-keys to grab the new binding of {path}")
