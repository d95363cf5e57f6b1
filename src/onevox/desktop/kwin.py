"""The focused window on KDE Plasma (KWin on Wayland), asked through a one-shot KWin script.

KWin tells no Wayland client which window has the focus, but it runs scripts given to it over D-Bus
(`org.kde.kwin.Scripting.loadScript`), and a script can read `workspace.activeClient` (Plasma 6:
`activeWindow`) and call any D-Bus method with `callDBus`. So each lookup writes a tiny script that calls
back to this process's own connection, loads and runs it, receives the call and unloads the script. This
costs a few milliseconds, so nothing is kept running inside KWin between dictations and nothing needs
cleaning up after a crash (a loaded script dies with KWin's session, and each lookup unloads its own).

Only a call from the bus name that answered `loadScript` (KWin itself) is taken as the answer.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from jeepney import DBusAddress, HeaderFields, MatchRule, MessageType, new_method_call, new_method_return
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.low_level import Message

from onevox.desktop.session import detect_family, detect_session

KWIN_BUS_NAME = "org.kde.KWin"
SCRIPTING = ("/Scripting", "org.kde.kwin.Scripting")
SCRIPT_INTERFACE = "org.kde.kwin.Script"
# where a loaded script's object lives: Plasma 6, then Plasma 5 ("/" + the id)
SCRIPT_PATHS = ("/Scripting/Script{id}", "/{id}")
CALLBACK_INTERFACE = "org.onevox.FocusedWindow"
CALLBACK_METHOD = "Focused"
LOOKUP_TIMEOUT_S = 0.5


class KWinFocusError(RuntimeError):
    """KWin could not be asked: no KWin on the session bus, scripting refused, no answer in time."""


@dataclass(frozen=True)
class KWinWindow:
    resource_class: str  # a Wayland window's app_id (or .desktop name), an X11 window's WM_CLASS class
    resource_name: str  # an X11 window's WM_CLASS instance; a Wayland window's executable name
    caption: str  # the title as KWin shows it (it appends " <2>" to a second window of the same title)

    @property
    def app(self) -> tuple[str, ...]:
        """Instance first, then class, as X11 reports them; empty names dropped, no name twice."""
        return tuple(dict.fromkeys(n for n in (self.resource_name, self.resource_class) if n))


def is_kwin_wayland(env: Mapping[str, str]) -> bool:
    """A KDE Plasma Wayland session, where the focused window is asked of KWin."""
    return detect_session(env) == "wayland" and detect_family(env) == "kde" and not (
        env.get("SWAYSOCK") or env.get("HYPRLAND_INSTANCE_SIGNATURE"))


def focus_script(service: str, path: str) -> str:
    """The JavaScript KWin runs: one call back to `service` at `path` with the active window's resource
    class, resource name and caption ("" each when no window is active)."""
    return (
        "var w = workspace.activeWindow !== undefined ? workspace.activeWindow : workspace.activeClient;\n"
        f"callDBus({json.dumps(service)}, {json.dumps(path)}, {json.dumps(CALLBACK_INTERFACE)}, "
        f"{json.dumps(CALLBACK_METHOD)},\n"
        '         w ? String(w.resourceClass) : "", w ? String(w.resourceName) : "",\n'
        '         w ? String(w.caption) : "");\n')


def parse_answer(body: tuple[object, ...]) -> KWinWindow | None:
    """The script's call's arguments as a window; None when no window is active (all empty). Anything but
    three strings is not an answer of ours (ValueError)."""
    if len(body) != 3 or not all(isinstance(part, str) for part in body):
        raise ValueError(f"not a focused-window answer: {body!r}")
    resource_class, resource_name, caption = (str(part) for part in body)
    if not (resource_class or resource_name or caption):
        return None
    return KWinWindow(resource_class, resource_name, caption)


class KWinFocus:
    """Asks KWin for the active window. Thread-safe; keeps one session-bus connection (opened on first use,
    reopened after a failure) and a private folder for the script file."""

    def __init__(self, env: Mapping[str, str] | None = None, timeout: float = LOOKUP_TIMEOUT_S) -> None:
        self._env = dict(os.environ if env is None else env)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._conn: DBusConnection | None = None
        self._folder: str | None = None
        self._script_path: str | None = None  # which of SCRIPT_PATHS this KWin uses, once known
        self._serial = itertools.count(1)

    def lookup(self) -> KWinWindow | None:
        """The active window (None: no window has the focus). KWinFocusError with the reason when KWin
        cannot be asked."""
        with self._lock:
            try:
                return self._lookup()
            except KWinFocusError:
                self._drop()
                raise
            except TimeoutError as exc:
                self._drop()
                raise KWinFocusError(f"KWin did not answer the focused-window script within "
                                     f"{self._timeout:g} s") from exc
            except (OSError, ValueError) as exc:
                self._drop()
                raise KWinFocusError(f"KWin did not answer the focused-window script: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._drop()
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None

    def _connection(self) -> DBusConnection:
        if self._conn is None:
            address = self._env.get("DBUS_SESSION_BUS_ADDRESS")
            if not address:
                raise KWinFocusError("no session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
            try:
                self._conn = open_dbus_connection(address)
            except (OSError, ValueError) as exc:
                raise KWinFocusError(f"cannot reach the session bus at {address}: {exc}") from exc
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
            self._conn = None

    def _lookup(self) -> KWinWindow | None:
        conn = self._connection()
        serial = next(self._serial)
        path = f"/org/onevox/focus/q{serial}"  # a fresh path: a late answer to an earlier lookup is not taken
        name = f"onevox-focus-{os.getpid()}-{serial}"
        own_name = str(getattr(conn, "unique_name", ""))  # set by Hello; the stubs do not declare it
        script = self._write_script(focus_script(own_name, path))
        rule = MatchRule(type=MessageType.method_call, path=path, interface=CALLBACK_INTERFACE,
                         member=CALLBACK_METHOD)
        with conn.filter(rule, bufsize=4) as answers:
            reply = self._call(conn, SCRIPTING, "loadScript", "ss", (script, name))
            kwin = reply.header.fields.get(HeaderFields.sender)
            script_id = reply.body[0]
            if not isinstance(script_id, int) or script_id < 0:
                raise KWinFocusError(f"KWin refused to load the focused-window script (loadScript answered "
                                     f"{script_id!r})")
            try:
                self._run(conn, script_id)
                answer = conn.recv_until_filtered(answers, timeout=self._timeout)
                while answer.header.fields.get(HeaderFields.sender) != kwin:  # not from KWin: not the answer
                    answer = conn.recv_until_filtered(answers, timeout=self._timeout)
                conn.send(new_method_return(answer))
            finally:
                with contextlib.suppress(OSError, TimeoutError, KWinFocusError):
                    self._call(conn, SCRIPTING, "unloadScript", "s", (name,))
        return parse_answer(tuple(answer.body))

    def _run(self, conn: DBusConnection, script_id: int) -> None:
        """Start the loaded script: on the object path this KWin uses (tried in turn the first time)."""
        candidates = [self._script_path] if self._script_path else list(SCRIPT_PATHS)
        last = ""
        for candidate in candidates:
            try:
                self._call(conn, (candidate.format(id=script_id), SCRIPT_INTERFACE), "run")
            except KWinFocusError as exc:
                last = str(exc)
                continue
            self._script_path = candidate
            return
        raise KWinFocusError(f"KWin loaded the focused-window script but would not run it: {last}")

    def _call(self, conn: DBusConnection, target: tuple[str, str], method: str, signature: str | None = None,
              body: tuple[object, ...] = ()) -> Message:
        address = DBusAddress(target[0], bus_name=KWIN_BUS_NAME, interface=target[1])
        reply = conn.send_and_get_reply(new_method_call(address, method, signature, body),
                                        timeout=self._timeout)
        if reply.header.message_type == MessageType.error:
            error = reply.header.fields.get(HeaderFields.error_name, "an error")
            detail = f": {reply.body[0]}" if reply.body else ""
            raise KWinFocusError(f"KWin answered {method} with {error}{detail}")
        return reply

    def _write_script(self, text: str) -> str:
        if self._folder is None:
            # 0700, only we (and KWin, as us) read it; the session's runtime folder is the one KWin surely
            # sees too (a service's /tmp may be private to it)
            runtime = self._env.get("XDG_RUNTIME_DIR")
            self._folder = tempfile.mkdtemp(prefix="onevox-kwin-",
                                            dir=runtime if runtime and os.path.isdir(runtime) else None)
        path = os.path.join(self._folder, "focus.js")
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
        return path


def kwin_focus_problem(env: Mapping[str, str], timeout: float = LOOKUP_TIMEOUT_S) -> str | None:
    """Why KWin cannot tell the focused window here (None: it answered). Loads and unloads one script that
    only reads."""
    reader = KWinFocus(env, timeout)
    try:
        reader.lookup()
    except KWinFocusError as exc:
        return str(exc)
    finally:
        reader.close()
    return None
