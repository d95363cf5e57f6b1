"""A test double of KWin's scripting service (org.kde.KWin /Scripting) on a private bus (fake_portal.py's
PrivateBus), for the ways a focused-window lookup can go wrong; the real KWin is asked in
tests/e2e/test_kde_dictation.py.

    with PrivateBus.start(tmp_path) as bus, FakeKWin(bus.address, window=("foot", "foot", "vim")) as kwin:
        KWinFocus({"DBUS_SESSION_BUS_ADDRESS": bus.address}).lookup()

"Running" a loaded script means reading the callDBus target from the script file and making that call with
`window`'s three strings, as KWin would after evaluating it. `mode`: "ok"; "refuse" (loadScript answers -1);
"silent" (the script never calls back); "impostor" (another connection calls back first with other strings,
then KWin answers). `script_paths`: where loaded scripts live ("plasma6": /Scripting/ScriptN,
"plasma5": /N).
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

from jeepney import (
    DBusAddress,
    HeaderFields,
    Message,
    MessageType,
    new_error,
    new_method_call,
    new_method_return,
)
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

BUS_NAME = "org.kde.KWin"


class FakeKWin:
    def __init__(self, address: str, *, window: tuple[str, str, str] = ("", "", ""), mode: str = "ok",
                 script_paths: str = "plasma5") -> None:
        self.address, self.window, self.mode, self.script_paths = address, window, mode, script_paths
        self.loaded: dict[int, tuple[str, str]] = {}  # id -> (file, name)
        self.unloaded: list[str] = []
        self.runs: list[str] = []  # the object paths run was called on
        self._next_id = 0
        self._conn: DBusConnection | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FakeKWin:
        self._conn = open_dbus_connection(self.address)
        self._conn.send_and_get_reply(message_bus.RequestName(BUS_NAME), timeout=5)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._conn is not None:
            self._conn.close()

    def _serve(self) -> None:
        assert self._conn is not None
        while not self._stop.is_set():
            try:
                message = self._conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            except OSError:
                return
            if message.header.message_type == MessageType.method_call:
                self._answer(message)

    def _answer(self, call: Message) -> None:
        assert self._conn is not None
        fields = call.header.fields
        path, member = fields.get(HeaderFields.path), fields.get(HeaderFields.member)
        if path == "/Scripting" and member == "loadScript":
            if self.mode == "refuse":
                self._conn.send(new_method_return(call, "i", (-1,)))
                return
            script_id = self._next_id
            self._next_id += 1
            self.loaded[script_id] = (call.body[0], call.body[1])
            self._conn.send(new_method_return(call, "i", (script_id,)))
        elif path == "/Scripting" and member == "unloadScript":
            self.unloaded.append(call.body[0])
            self._conn.send(new_method_return(call, "b", (True,)))
        elif member == "run" and (script_id := self._script_id(str(path))) in self.loaded:
            self.runs.append(str(path))
            self._run(self.loaded[script_id][0])
            self._conn.send(new_method_return(call))
        else:
            self._conn.send(new_error(call, "org.freedesktop.DBus.Error.UnknownObject", "s",
                                      (f"No such object path '{path}'",)))

    def _script_id(self, path: str) -> int:
        pattern = r"/Scripting/Script(\d+)" if self.script_paths == "plasma6" else r"/(\d+)"
        found = re.fullmatch(pattern, path)
        return int(found.group(1)) if found else -1

    def _run(self, script: str) -> None:
        """The callDBus the script makes: its first four string literals are service, path, interface,
        method."""
        if self.mode == "silent":
            return
        call = Path(script).read_text(encoding="utf-8").split("callDBus(", 1)[1]
        service, path, interface, method = (json.loads(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', call)[:4])
        target = DBusAddress(path, bus_name=service, interface=interface)
        if self.mode == "impostor":
            with open_dbus_connection(self.address) as other:
                other.send(new_method_call(target, method, "sss", ("evil", "evil", "not the window")))
                other.send_and_get_reply(message_bus.GetId(), timeout=5)  # flushed before KWin answers
        assert self._conn is not None
        self._conn.send(new_method_call(target, method, "sss", self.window))
