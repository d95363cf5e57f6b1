"""A headless sway desktop for end-to-end tests, run the way a user runs one.

    with SwaySession.start(tmp / "sway") as sway:
        window = sway.open_target("editor")          # a focused GTK3 window mirroring its text to a file
        sway.bind("--no-repeat ctrl+shift+space", "onevox start-dictation")
        chord = sway.hold_chord("ctrl+shift+space", 3.0)  # the keys go down through a virtual keyboard...
        released = sway.wait_released(chord)             # ...and up again 3 s later

sway refuses to run as root, so everything on this desktop runs as an ordinary test user (TEST_USER, created
on first use): sway, the GTK window, the virtual keyboards, and (DaemonProcess(as_user=...), VirtualMic
(as_user=...)) the onevox daemon and the PulseAudio server. That is also how a real desktop is laid out: the
command a sway key binding runs belongs to the user, and the daemon only answers its own user (SO_PEERCRED).
The tests' Python may live where that user cannot reach it (the pyenv build under /root, mode 0700):
`grant_traversal` gives the user search permission (an ACL, `setfacl -m u:USER:x`) on exactly the folders on
the way that lack it, which keeps the very interpreter and packages under test. Building a second
environment from /usr/bin/python3 would need the whole dependency set installed again, and test a copy.

Found on this machine, and handled here:
- A headless seat has no keyboard; GTK creates its keyboard when the first virtual keyboard appears and loses
  that keyboard's first key. A `wtype -` with its stdin held open stays in the seat for the whole session.
- sway repeats a held binding's command (25/s): bind the press with --no-repeat.
- A key pressed by one virtual keyboard must be released by the same one (sway tracks keys per keyboard), so
  a held chord is one wtype call: press, sleep, release. Its exit is the moment of release.
- swaybg/swaynag would be extra clients (swaynag even takes the focus): both are switched off.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.desktop import wait_until
from tests.support.gtk_window import GTK_ENV, GTK_TARGET, GtkWindow, gtk_target_argv, missing_gtk
from tests.support.requirements import INSTALL_HINT

TEST_USER = "onevox-wayland"
TOOLS = ("sway", "swaymsg", "wtype", "wl-copy", "wl-paste", "setfacl", "useradd")
START_TIMEOUT_S = 20.0
WTYPE_MODIFIERS = {"ctrl": "ctrl", "shift": "shift", "alt": "alt", "super": "logo"}

SWAY_CONFIG = """\
xwayland disable
swaybg_command -
swaynag_command -
output HEADLESS-1 resolution 1280x720
default_border none
focus_on_window_activation focus
"""


def missing_wayland_tools() -> list[str]:
    """What the sway rig needs that is not installed (programs, and GTK 3 for the system python)."""
    return [tool for tool in TOOLS if shutil.which(tool) is None] + missing_gtk()


def require_sway() -> None:
    """Fail (never skip) the calling test when the sway rig cannot run here."""
    missing = missing_wayland_tools()
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}; {INSTALL_HINT}")
    if os.geteuid() != 0:
        pytest.fail("the sway tests run sway as a separate test user, which needs root (we create the user "
                    "and switch to it)")


@dataclass(frozen=True)
class TestUser:
    name: str
    uid: int
    gid: int

    @property
    def ids(self) -> tuple[int, int]:
        return self.uid, self.gid

    def popen_kwargs(self) -> dict[str, Any]:
        """subprocess keyword arguments that run a child as this user (no supplementary groups)."""
        return as_user_kwargs(self.ids)


def as_user_kwargs(ids: tuple[int, int] | None) -> dict[str, Any]:
    if ids is None:
        return {}
    return {"user": ids[0], "group": ids[1], "extra_groups": []}


def ensure_user(name: str = TEST_USER) -> TestUser:
    """The test user, created (a system user with no login and no home) unless it exists. Idempotent, and
    safe when another test process creates it at the same moment."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        entry = None
    if entry is None:
        done = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                               "/nonexistent", "--shell", "/usr/sbin/nologin", name],
                              capture_output=True, text=True, check=False)
        if done.returncode not in (0, 9):  # 9: it exists (created meanwhile)
            raise RuntimeError(f"useradd {name} failed ({done.returncode}): {done.stderr.strip()}")
        entry = pwd.getpwnam(name)
    return TestUser(name, entry.pw_uid, entry.pw_gid)


def python_paths() -> list[Path]:
    """What a child `python -m onevox` of ours reads: the interpreter (link and target), its prefixes and
    every folder on sys.path."""
    paths = [Path(sys.executable), Path(sys.executable).resolve(), Path(sys.prefix), Path(sys.base_prefix)]
    paths += [Path(p) for p in sys.path if p]
    paths += [Path(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return [p for p in paths if p.exists()]


def grant_traversal(user: TestUser, paths: Iterable[Path]) -> list[Path]:
    """Give `user` search permission on every folder on the way to `paths` (and on the folders themselves)
    that others cannot search, with an ACL entry (nothing else about the folder changes). Returns the folders
    changed. Folders that are searchable by others already are left alone."""
    changed: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        path = Path(os.path.abspath(path))
        for folder in [path, *path.parents]:
            if folder in seen or not folder.is_dir():
                continue
            seen.add(folder)
            info = folder.stat()
            if info.st_mode & stat.S_IXOTH or info.st_uid == user.uid:
                continue
            subprocess.run(["setfacl", "-m", f"u:{user.name}:x", str(folder)], check=True,
                           capture_output=True)
            changed.append(folder)
    return changed


def give_to(user: TestUser, root: Path) -> None:
    """chown -R `root` to the user (what the rig creates as root for the user's processes)."""
    for folder, dirs, files in os.walk(root):
        os.chown(folder, user.uid, user.gid)
        for name in (*dirs, *files):
            os.chown(os.path.join(folder, name), user.uid, user.gid, follow_symlinks=False)


class SwaySession:
    """Headless sway as TEST_USER in `root` (home/ and run/, 0700, owned by the user)."""

    def __init__(self, root: Path, user: TestUser) -> None:
        self.root = root
        self.user = user
        self.home = root / "home"
        self.runtime = root / "run"
        self.log_path = root / "sway.log"
        self.env: dict[str, str] = {}  # for programs on this desktop; complete once started
        self.procs: list[subprocess.Popen[bytes]] = []
        self.windows: list[GtkWindow] = []
        self._keyboard: subprocess.Popen[bytes] | None = None
        self._remove_root = False

    # --- life cycle --------------------------------------------------------------------------------
    @classmethod
    def start(cls, root: Path | None = None, *, extra_config: str = "") -> SwaySession:
        """Start sway in `root`, or (None, the usual) in a fresh folder of the system's temporary folder,
        deleted by stop(). Not under pytest's basetemp: pytest chmods /tmp/pytest-of-USER to 0700 whenever
        it starts (any test run on the machine), which masks out the ACL that lets the user through."""
        require_sway()
        user = ensure_user()
        made = root is None
        root = Path(tempfile.mkdtemp(prefix="onevox-sway-")) if root is None else Path(root)
        session = cls(root, user)
        session._remove_root = made
        for folder in (root, session.home, session.runtime):
            folder.mkdir(parents=True, exist_ok=True)
        session.runtime.chmod(0o700)
        config = root / "sway.conf"
        config.write_text(SWAY_CONFIG + extra_config, encoding="utf-8")
        give_to(user, root)
        grant_traversal(user, [root, GTK_TARGET, *python_paths()])
        session.env = session._base_env()
        try:
            session._start_sway(config)
            session._keep_a_keyboard()
        except BaseException:
            session.stop()
            raise
        return session

    def __enter__(self) -> SwaySession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _base_env(self) -> dict[str, str]:
        env = {"HOME": str(self.home), "XDG_RUNTIME_DIR": str(self.runtime), "LANG": "C.UTF-8",
               "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "XDG_SESSION_TYPE": "wayland",
               "XDG_CURRENT_DESKTOP": "sway"}
        if os.environ.get("PYTHONPATH"):
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]  # the bound onevox commands find the code under test
        return env

    def _start_sway(self, config: Path) -> None:
        env = {**self.env, "WLR_BACKENDS": "headless", "WLR_RENDERER": "pixman",
               "WLR_LIBINPUT_NO_DEVICES": "1"}
        with open(self.log_path, "ab") as log:
            self.procs.append(subprocess.Popen(["sway", "-c", str(config)], env=env, cwd=self.root,
                                               stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                               start_new_session=True, **self.user.popen_kwargs()))
        display = wait_until(self._wayland_display, START_TIMEOUT_S, "sway's Wayland socket")
        self.env["WAYLAND_DISPLAY"] = str(display)
        ipc = wait_until(lambda: next(iter(self.runtime.glob("sway-ipc.*.sock")), None), START_TIMEOUT_S,
                         "sway's IPC socket")
        self.env["SWAYSOCK"] = str(ipc)
        wait_until(lambda: self.run(["swaymsg", "-t", "get_version"], check=False).returncode == 0,
                   START_TIMEOUT_S, "swaymsg to answer")

    def _wayland_display(self) -> str | None:
        if self.procs[0].poll() is not None:
            raise RuntimeError(f"sway exited with {self.procs[0].returncode}:\n{self.log()[-3000:]}")
        for sock in sorted(self.runtime.glob("wayland-*")):
            if not sock.name.endswith(".lock") and sock.is_socket():
                return sock.name
        return None

    def _keep_a_keyboard(self) -> None:
        """A virtual keyboard that stays in the seat (see the module's notes)."""
        self._keyboard = self.spawn(["wtype", "-"], stdin=subprocess.PIPE)
        wait_until(lambda: any(i.get("type") == "keyboard" for i in self.swaymsg_json("-t", "get_inputs")),
                   START_TIMEOUT_S, "the virtual keyboard in sway's seat")

    def stop(self) -> None:
        """End everything started here, newest first (sway last)."""
        if self._keyboard is not None and self._keyboard.stdin is not None:
            with contextlib.suppress(OSError):
                self._keyboard.stdin.close()
        for proc in reversed(self.procs):
            _stop(proc)
        self.procs.clear()
        if self._remove_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # --- running things on the desktop ---------------------------------------------------------------
    def spawn(self, argv: Sequence[str], env: dict[str, str] | None = None,
              **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start a program as the user on this desktop; stop() ends it."""
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        proc = subprocess.Popen(list(argv), env={**self.env, **(env or {})}, cwd=self.root,
                                start_new_session=True, **self.user.popen_kwargs(), **kwargs)
        self.procs.append(proc)
        return proc

    def run(self, argv: Sequence[str], *, check: bool = True, input: bytes | None = None,
            timeout: float = 10.0) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run(list(argv), env=self.env, cwd=self.root, capture_output=True, input=input,
                              timeout=timeout, check=False, **self.user.popen_kwargs())
        if check and done.returncode != 0:
            raise AssertionError(f"{shlex.join(argv)} failed ({done.returncode}): "
                                 f"{done.stderr.decode(errors='replace')}{done.stdout.decode(errors='replace')}")
        return done

    def swaymsg(self, command: str) -> None:
        """Run a sway command (as in the config file); AssertionError when sway refuses it."""
        replies = self.swaymsg_json(command)
        failed = [r for r in replies if not r.get("success")]
        if failed:
            raise AssertionError(f"swaymsg {command!r}: {failed}")

    def swaymsg_json(self, *args: str) -> Any:
        return json.loads(self.run(["swaymsg", "-r", *args]).stdout)

    def bind(self, spec: str, command: str) -> None:
        """`bindsym SPEC exec COMMAND` in the running sway (what a line of the user's config does)."""
        self.swaymsg(f"bindsym {spec} exec {command}")

    def focused_title(self) -> str | None:
        def walk(node: dict[str, Any]) -> str | None:
            if node.get("focused"):
                return str(node.get("name"))
            for child in node.get("nodes", []) + node.get("floating_nodes", []):
                found = walk(child)
                if found is not None:
                    return found
            return None
        return walk(self.swaymsg_json("-t", "get_tree"))

    def open_target(self, name: str = "target", *, app_id: str = "onevox-target",
                    terminal: bool = False) -> GtkWindow:
        """A GTK3 window titled uniquely after `name`, mapped and focused. `app_id`: its Wayland app_id;
        `terminal`: ctrl+v types "^V" and ctrl+shift+v pastes, as in a terminal emulator."""
        title = f"{name}-{uuid.uuid4().hex[:8]}"
        path = self.root / f"{title}.txt"
        err = open(self.root / f"{title}.err", "wb")  # noqa: SIM115 - the child keeps it
        argv = gtk_target_argv(title, path, app_id=app_id, terminal=terminal)
        proc = self.spawn(argv, env=GTK_ENV, stdout=err, stderr=err)
        err.close()
        window = GtkWindow(title, path, proc, focus=self.focus_window)
        try:
            wait_until(path.exists, START_TIMEOUT_S, f"{title} to be mapped")
        except TimeoutError:
            raise AssertionError(f"the GTK window did not come up: "
                                 f"{(self.root / f'{title}.err').read_text(errors='replace')}") from None
        self.windows.append(window)
        window.focus()
        return window

    def focus_window(self, window: GtkWindow) -> None:
        """Focus `window` (sway may learn its title a moment after the window mapped: retried)."""
        command = ["swaymsg", f'[title="^{window.title}$"] focus']

        def focused() -> bool:
            self.run(command, check=False)
            return self.focused_title() == window.title
        wait_until(focused, 5.0, f"focus on {window.title}", interval=0.05)

    # --- keys ----------------------------------------------------------------------------------------
    def hold_chord(self, keys: str, hold_s: float) -> subprocess.Popen[bytes]:
        """Press `keys` ("ctrl+shift+space") through a virtual keyboard, hold them `hold_s`, release them
        (the key first, then the modifiers, as fingers do). Returns at once; wait_released() waits."""
        *mods, key = keys.split("+")
        argv = ["wtype"]
        for mod in mods:
            argv += ["-M", WTYPE_MODIFIERS[mod]]
        argv += ["-P", key, "-s", str(max(1, round(hold_s * 1000))), "-p", key]
        for mod in reversed(mods):
            argv += ["-m", WTYPE_MODIFIERS[mod]]
        return self.spawn(argv, stderr=subprocess.PIPE)

    def tap_chord(self, keys: str) -> float:
        """Press and release `keys`; the moment they were released."""
        return self.wait_released(self.hold_chord(keys, 0.05))

    def wait_released(self, chord: subprocess.Popen[bytes], timeout: float = 120.0) -> float:
        """The monotonic time the chord's keys went up (its wtype exits right after the release)."""
        deadline = time.monotonic() + timeout
        while chord.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError("the held keys were never released (wtype hangs)")
            time.sleep(0.001)
        released = time.monotonic()
        if chord.returncode != 0:
            err = chord.stderr.read().decode(errors="replace") if chord.stderr else ""
            raise AssertionError(f"wtype holding the keys failed ({chord.returncode}): {err}")
        return released

    def screenshot(self, path: Path) -> Path | None:
        """A PNG of the output (grim), for a failure report; None when grim is missing or fails."""
        if shutil.which("grim") is None:
            return None
        done = self.run(["grim", str(self.root / "shot.png")], check=False)
        if done.returncode != 0:
            return None
        shutil.copyfile(self.root / "shot.png", path)
        return path


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5.0)
