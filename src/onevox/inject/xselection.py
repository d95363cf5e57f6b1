"""The X CLIPBOARD owned in-process (python-xlib): set in well under a millisecond, with no helper process.

A thread of our own answers paste requests, so we also learn when the focused window has actually fetched
the text (the moment the clipboard can be restored) and when someone else copies (SelectionClear).
Reading another application's clipboard follows ICCCM, including INCR for large contents.
"""

from __future__ import annotations

import logging
import os
import queue
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from onevox.errors import InjectionError
from onevox.inject.clipboard import NOT_TEXT, Contents
from onevox.inject.xkeyboard import open_display

if TYPE_CHECKING:
    from Xlib.protocol.request import GetProperty
    from Xlib.protocol.rq import Event
    from Xlib.xobject.drawable import Window

T = TypeVar("T")
log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.5  # an application that does not answer within this is treated as an empty clipboard
UTF8_TARGETS = ("UTF8_STRING", "text/plain;charset=utf-8", "TEXT")
LATIN1_TARGETS = ("STRING", "text/plain")


@dataclass
class _PendingRead:
    future: Future[Contents]
    deadline: float
    target: int
    incr: bytearray | None = None
    tried: list[int] = field(default_factory=list)


class ClipboardOwner:
    """Implements the Clipboard interface on X11 by owning the selection in this process."""

    name = "x11-selection"
    reports_fetch = True  # our thread serves every paste request

    def __init__(self, display_name: str | None = None, selection: str = "CLIPBOARD") -> None:
        from Xlib import X, Xatom

        self._display = open_display(display_name)
        d = self._display
        self._window: Window = d.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent,
                                                     event_mask=X.PropertyChangeMask)
        names = (selection, "TARGETS", "TIMESTAMP", "INCR", "ONEVOX_CLIPBOARD", *UTF8_TARGETS, "text/plain")
        self._atom = {n: d.intern_atom(n) for n in names}
        self._atom["STRING"] = Xatom.STRING
        self._selection = self._atom[selection]
        self.max_bytes = d.display.info.max_request_length * 4 - 1024  # more would need INCR to serve
        self._text: str | None = None  # what we serve while we own the selection
        self._cond = threading.Condition()
        self._served_at: float | None = None
        self._read: _PendingRead | None = None
        self._tasks: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._broken: str | None = None
        self._wake_r, self._wake_w = os.pipe()
        d.sync()
        self._thread = threading.Thread(target=self._run, name="onevox-clipboard", daemon=True)
        self._thread.start()

    # Clipboard interface -------------------------------------------------------------------------------
    def read(self, timeout: float = READ_TIMEOUT_S) -> Contents:
        """The clipboard's text now; None when empty; NOT_TEXT when it holds no text or its owner did not
        answer within `timeout`."""
        with self._cond:
            if self._text is not None:
                return self._text
        inner = self._call(lambda: self._start_read(timeout))
        return inner.result(timeout + 1.0)

    def write(self, text: str) -> None:
        """Own the clipboard and serve `text` until someone else copies."""
        if len(text.encode("utf-8")) > self.max_bytes:
            raise InjectionError(f"text of {len(text)} characters is too large to serve in-process")
        self._call(lambda: self._own(text))

    def clear(self) -> None:
        self._call(self._disown)

    @property
    def usable(self) -> bool:
        return self._broken is None and self._thread.is_alive()

    @property
    def owns(self) -> bool:
        with self._cond:
            return self._text is not None

    def wait_pasted(self, timeout: float) -> float | None:
        """Wait until a window has fetched the text written last; the monotonic time it did, or None."""
        with self._cond:
            self._cond.wait_for(lambda: self._served_at is not None, timeout)
            return self._served_at

    def close(self) -> None:
        if self._thread.is_alive():
            os.write(self._wake_w, b"q")
            self._thread.join(timeout=2.0)
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        try:
            self._display.close()
        except Exception as exc:
            log.debug("closing the clipboard display: %s", exc)

    # running things on the owner thread ----------------------------------------------------------------
    def _call(self, func: Callable[[], T]) -> T:
        if self._broken or not self._thread.is_alive():
            raise InjectionError(f"the X clipboard connection is gone ({self._broken or 'stopped'})")
        future: Future[T] = Future()
        self._tasks.put((func, future))
        os.write(self._wake_w, b"t")
        return future.result(timeout=5.0)

    def _run(self) -> None:
        from Xlib.error import ConnectionClosedError

        fd = self._display.fileno()
        try:
            while True:
                wait = None if self._read is None else max(0.0, self._read.deadline - time.monotonic())
                ready, _, _ = select.select([fd, self._wake_r], [], [], wait)
                if self._wake_r in ready and b"q" in os.read(self._wake_r, 512):
                    return
                self._run_tasks()
                self._drain()
                self._expire_read()
        except ConnectionClosedError as exc:
            self._broken = str(exc)
            log.error("the X clipboard connection closed: %s", exc)
            self._fail_everything()

    def _run_tasks(self) -> None:
        while not self._tasks.empty():
            func, future = self._tasks.get_nowait()
            try:
                future.set_result(func())
            except Exception as exc:
                future.set_exception(exc)

    def _fail_everything(self) -> None:
        if self._read is not None:
            self._read.future.set_result(NOT_TEXT)
            self._read = None
        while not self._tasks.empty():
            _func, future = self._tasks.get_nowait()
            future.set_exception(InjectionError(f"the X clipboard connection is gone ({self._broken})"))

    def _drain(self) -> None:
        from Xlib import X

        while self._display.pending_events():
            event = self._display.next_event()
            if event.type == X.SelectionRequest:
                self._serve(event)
            elif event.type == X.SelectionClear and event.atom == self._selection:
                with self._cond:
                    self._text = None
            elif event.type == X.SelectionNotify and self._read is not None:
                self._on_selection_notify(self._read, event)
            elif (event.type == X.PropertyNotify and self._read is not None and self._read.incr is not None
                  and event.atom == self._atom["ONEVOX_CLIPBOARD"] and event.state == X.PropertyNewValue):
                self._on_incr_chunk(self._read, self._read.incr)

    # owning and serving --------------------------------------------------------------------------------
    def _own(self, text: str) -> None:
        from Xlib import X

        self._window.set_selection_owner(self._selection, X.CurrentTime)
        # the stubs say int; python-xlib gives the owner's Window (equal to ours by id), or X.NONE
        if self._display.get_selection_owner(self._selection) != self._window:  # type: ignore[comparison-overlap]
            raise InjectionError("another program kept the clipboard; the text could not be put on it")
        with self._cond:
            self._text = text
            self._served_at = None

    def _disown(self) -> None:
        from Xlib import X
        from Xlib.protocol import request

        with self._cond:
            owned, self._text = self._text is not None, None
        if owned:
            # Window.set_selection_owner can only make this window the owner (its third argument is an error
            # handler): giving the selection up is a SetSelectionOwner naming no window
            request.SetSelectionOwner(display=self._display.display, window=X.NONE, selection=self._selection,
                                      time=X.CurrentTime)
            self._display.flush()

    def _serve(self, request: Event) -> None:
        from Xlib import X
        from Xlib.error import CatchError
        from Xlib.protocol import event

        prop = request.property or request.target
        reply = self._reply_for(request.target)
        catch = CatchError()
        if reply is None:
            prop = X.NONE
        else:
            request.requestor.change_property(prop, *reply, onerror=catch)
        notify = event.SelectionNotify(time=request.time, requestor=request.requestor,
                                       selection=request.selection, target=request.target, property=prop)
        request.requestor.send_event(notify, onerror=catch)
        self._display.flush()
        if reply is not None and request.target != self._atom["TARGETS"]:
            with self._cond:
                self._served_at = time.monotonic()
                self._cond.notify_all()

    def _reply_for(self, target: int) -> tuple[int, int, Any] | None:
        """(type, format, data) answering a request for `target`, or None to refuse it."""
        from Xlib import Xatom

        with self._cond:
            text = self._text
        if text is None:
            return None
        a = self._atom
        if target == a["TARGETS"]:
            offered = [a["TARGETS"], *(a[n] for n in UTF8_TARGETS), *(a[n] for n in LATIN1_TARGETS)]
            return Xatom.ATOM, 32, offered
        if target in (a[n] for n in UTF8_TARGETS):
            return a["UTF8_STRING"], 8, text.encode("utf-8")
        if target in (a[n] for n in LATIN1_TARGETS):
            return Xatom.STRING, 8, text.encode("latin-1", "replace")
        return None

    # reading another application's clipboard -------------------------------------------------------------
    def _start_read(self, timeout: float) -> Future[Contents]:
        from Xlib import X

        future: Future[Contents] = Future()
        if self._display.get_selection_owner(self._selection) == X.NONE:
            future.set_result(None)
            return future
        if self._read is not None:
            self._read.future.set_result(NOT_TEXT)
        self._read = _PendingRead(future, time.monotonic() + timeout, self._atom["UTF8_STRING"])
        self._request(self._read)
        return future

    def _request(self, pending: _PendingRead) -> None:
        """Ask the owner for the clipboard as pending.target, into our property."""
        from Xlib import X

        pending.tried.append(pending.target)
        self._window.convert_selection(self._selection, pending.target, self._atom["ONEVOX_CLIPBOARD"],
                                       X.CurrentTime)
        self._display.flush()

    def _on_selection_notify(self, pending: _PendingRead, notify: Event) -> None:
        from Xlib import X

        if notify.property == X.NONE:
            if self._atom["STRING"] not in pending.tried:
                pending.target = self._atom["STRING"]
                self._request(pending)  # an older application: try plain Latin-1
            else:
                self._finish(pending, None)
            return
        prop = self._take_property()
        if prop is not None and prop.property_type == self._atom["INCR"]:
            pending.incr = bytearray()  # the data follows in chunks (PropertyNotify)
            return
        if prop is None or prop.property_type not in self._text_types():
            # some owners answer any request with their own format (xclip -t image/png)
            self._finish(pending, None)
            return
        self._finish(pending, bytes(prop.value))

    def _text_types(self) -> set[int]:
        return {self._atom[n] for n in (*UTF8_TARGETS, "STRING", "text/plain")}

    def _on_incr_chunk(self, pending: _PendingRead, received: bytearray) -> None:
        prop = self._take_property()
        chunk = b"" if prop is None else bytes(prop.value)
        if chunk:
            received.extend(chunk)
        else:
            self._finish(pending, bytes(received))

    def _take_property(self) -> GetProperty | None:
        from Xlib import X

        prop = self._window.get_full_property(self._atom["ONEVOX_CLIPBOARD"], X.AnyPropertyType)
        self._window.delete_property(self._atom["ONEVOX_CLIPBOARD"])
        self._display.flush()
        return prop

    def _finish(self, pending: _PendingRead, data: bytes | None) -> None:
        """Complete the read (the one in self._read) with the text, or NOT_TEXT when `data` is None
        (refused, missing)."""
        self._read = None
        if data is None:
            pending.future.set_result(NOT_TEXT)
            return
        encoding = "latin-1" if pending.target == self._atom["STRING"] else "utf-8"
        pending.future.set_result(data.decode(encoding, "replace"))

    def _expire_read(self) -> None:
        if self._read is not None and time.monotonic() >= self._read.deadline:
            log.debug("the clipboard's owner did not answer within the timeout")
            self._finish(self._read, None)
