"""The recording indicator on X11: a small override-redirect window at the bottom centre of the screen that
shows the daemon's state and, in live mode, the words so far. It is never focused: override-redirect keeps
window managers from managing (and focusing) it, its WM_HINTS say input=False, and an empty input shape lets
clicks fall through to the window below.

It has its own X connection on its own thread; `handle` only queues the event. What it shows is also set as
the window's name (_NET_WM_NAME, UTF-8, and WM_NAME) and `_ONEVOX_STATE` is the bare state, so a test (or a
screen reader) reads it from outside: `xprop -id WID _NET_WM_NAME _ONEVOX_STATE`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from onevox.feedback.indicator import QueuedIndicator
from onevox.feedback.view import IndicatorView

log = logging.getLogger(__name__)

WINDOW_CLASS = ("onevox-indicator", "Onevox")
HEIGHT = 30
MIN_WIDTH = 180
MARGIN = 48  # from the bottom of the screen
PAD = 12
POLL_S = 0.05  # while shown, how often the thread looks at X events (expose); hidden, it only waits
# background colours (16-bit RGB) by state; the text is white
COLOURS = {"recording": (0xB000, 0x2000, 0x2000), "transcribing": (0x2000, 0x4800, 0x9000),
           "injecting": (0x2000, 0x7000, 0x3000), "error": (0x7000, 0x3000, 0x0000)}


Monitor = tuple[int, int, int, int, bool]  # x, y, width, height, primary


def place(monitors: list[Monitor], screen: tuple[int, int], width: int) -> tuple[int, int]:
    """Where the window goes: bottom centre of the primary monitor (else the first one RandR lists, else the
    whole screen), so that on two monitors it is not cut in half at the seam."""
    chosen = next((m for m in monitors if m[4]), monitors[0] if monitors else (0, 0, *screen, True))
    x, y, w, h, _ = chosen
    return x + max((w - width) // 2, 0), y + h - HEIGHT - MARGIN


class X11Indicator(QueuedIndicator):
    """The indicator window on an X display (XWayland too)."""

    name = "indicator-x11"

    def __init__(self, display_name: str | None = None) -> None:
        super().__init__()
        self.display_name = display_name
        self.window_id = 0  # the X window id once created (0: not yet, or the display could not be opened)
        self._opened = threading.Event()
        self._x: _Window | None = None

    def start(self) -> None:
        self._thread.start()
        self._opened.wait(5.0)  # the window exists before the first dictation (never blocks longer)

    def _run(self) -> None:
        try:
            self._x = _Window(self.display_name)
        except Exception as exc:  # no display, refused, Xlib missing
            log.warning("no recording indicator: cannot open X display %s (%s)", self.display_name, exc)
            self._opened.set()
            return
        self.window_id = self._x.window.id
        log.info("recording indicator on X display %s (window 0x%x)", self.display_name, self.window_id)
        self._opened.set()
        try:
            self._loop(self._x)
        except Exception as exc:  # the X server went away: the daemon carries on without the indicator
            log.warning("recording indicator stopped: %s", exc)
            log.debug("the indicator's failure", exc_info=True)
        finally:
            self._x.close()

    def _loop(self, x: _Window) -> None:
        while True:
            hide_at = self.model.hide_at
            if not self.model.view.visible:
                timeout: float | None = None  # hidden: nothing to redraw, sleep until the next event
            elif hide_at is None:
                timeout = POLL_S
            else:
                timeout = max(0.0, min(POLL_S, hide_at - time.monotonic()))
            changed = self._next_changes(timeout)
            if changed is None:
                return
            if changed:
                x.show(self.model.view)
            x.pump()


class _Window:
    """The X side: one connection, one window, drawn on the indicator's thread only."""

    def __init__(self, display_name: str | None) -> None:
        from Xlib import X, Xatom, Xutil, display

        self._X = X
        self.display = display.Display(display_name)
        screen = self.display.screen()
        self.screen_w, self.screen_h = screen.width_in_pixels, screen.height_in_pixels
        self.colormap = screen.default_colormap
        self.white = screen.white_pixel
        self.font: Any = None
        try:
            self.font = self.display.open_font("fixed")
            info = self.font.query()
            self.char_w = max(int(info.max_bounds.character_width), 1)
            self.ascent = int(info.font_ascent)
        except Exception:  # no core fonts: the window still shows the state by colour and name
            self.font, self.char_w, self.ascent = None, 7, 10
        self.window = screen.root.create_window(
            (self.screen_w - MIN_WIDTH) // 2, self.screen_h - HEIGHT - MARGIN, MIN_WIDTH, HEIGHT, 0,
            screen.root_depth, X.InputOutput, X.CopyFromParent,
            background_pixel=screen.black_pixel, override_redirect=True, event_mask=X.ExposureMask)
        self.gc = self.window.create_gc(foreground=self.white, background=screen.black_pixel,
                                        **({"font": self.font} if self.font is not None else {}))
        self.window.set_wm_class(*WINDOW_CLASS)
        self.window.set_wm_hints(flags=Xutil.InputHint, input=0)
        atom = self.display.intern_atom
        self.window.change_property(atom("_NET_WM_WINDOW_TYPE"), Xatom.ATOM, 32,
                                    [atom("_NET_WM_WINDOW_TYPE_NOTIFICATION")])
        self.window.change_property(atom("_NET_WM_STATE"), Xatom.ATOM, 32,
                                    [atom("_NET_WM_STATE_ABOVE"), atom("_NET_WM_STATE_SKIP_TASKBAR")])
        self._net_wm_name, self._utf8 = atom("_NET_WM_NAME"), atom("UTF8_STRING")
        self._state_atom = atom("_ONEVOX_STATE")
        self._clicks_fall_through()
        self._pixels: dict[str, int] = {}
        self.view = IndicatorView()
        self._name(self.view)
        self.display.flush()

    def _clicks_fall_through(self) -> None:
        try:
            from Xlib.ext import shape

            if self.display.has_extension("SHAPE"):
                self.window.shape_rectangles(shape.SO.Set, shape.SK.Input, self._X.Unsorted, 0, 0, [])
        except Exception as exc:  # an old server: clicks on the indicator reach it (it still takes no focus)
            log.debug("indicator input shape not set: %s", exc)

    def _pixel(self, state: str) -> int:
        if state not in self._pixels:
            r, g, b = COLOURS.get(state, (0x3000, 0x3000, 0x3000))
            self._pixels[state] = self.colormap.alloc_color(r, g, b).pixel
        return self._pixels[state]

    def _name(self, view: IndicatorView) -> None:
        title = view.title
        self.window.set_wm_name(title.encode("latin-1", "replace"))
        self.window.change_property(self._net_wm_name, self._utf8, 8, title.encode("utf-8"))
        self.window.change_property(self._state_atom, self._utf8, 8, view.state.encode("utf-8"))

    def show(self, view: IndicatorView) -> None:
        self.view = view
        self._name(view)
        if not view.visible:
            self.window.unmap()
            self.display.flush()
            return
        monitors = self._monitors()
        usable = min((m[2] for m in monitors if m[4]), default=monitors[0][2] if monitors else self.screen_w)
        width = min(max(len(view.text) * self.char_w + 2 * PAD, MIN_WIDTH), usable - 2 * PAD)
        x, y = place(monitors, (self.screen_w, self.screen_h), width)
        self.window.configure(x=x, y=y, width=width, height=HEIGHT, stack_mode=self._X.Above)
        self.window.change_attributes(background_pixel=self._pixel(view.state))
        self.window.map()
        self._draw(width)
        self.display.flush()

    def _monitors(self) -> list[Monitor]:
        """The monitors RandR 1.5 reports (asked each time: they come and go); [] when it cannot tell."""
        try:
            if not self.display.has_extension("RANDR"):
                return []
            found = self.window.xrandr_get_monitors().monitors
        except Exception as exc:  # RandR older than 1.5
            log.debug("no RandR monitors: %s", exc)
            return []
        return [(int(m.x), int(m.y), int(m.width_in_pixels), int(m.height_in_pixels), bool(m.primary))
                for m in found]

    def _draw(self, width: int) -> None:
        view = self.view
        if not view.visible:
            return
        self.window.clear_area(0, 0, 0, 0)
        if self.font is None:
            return
        fits = max((width - 2 * PAD) // self.char_w, 4)
        text = view.text if len(view.text) <= fits else "..." + view.text[-(fits - 3):]
        chars = [ord(ch) if ord(ch) <= 0xFFFF else ord("?") for ch in text]  # CHAR2B: the BMP only
        self.gc.change(background=self._pixel(view.state))
        self.window.image_text_16(self.gc, PAD, (HEIGHT + self.ascent) // 2 - 1, chars)

    def pump(self) -> None:
        """Answer the X events that arrived (an expose redraws)."""
        exposed = False
        while self.display.pending_events():
            if self.display.next_event().type == self._X.Expose:
                exposed = True
        if exposed:
            self._draw(self.window.get_geometry().width)
            self.display.flush()

    def close(self) -> None:
        try:
            self.window.destroy()
            self.display.close()
        except Exception as exc:  # the server is already gone
            log.debug("closing the indicator's display: %s", exc)
