"""The recording indicator's window on Wayland: a wlr-layer-shell surface (sway, Hyprland, river, KDE Plasma)
made with GTK 3 and gtk-layer-shell, in a process of its own.

It is a separate program because GTK comes from the system (python3-gi, gir1.2-gtklayershell-0.1), not from
onevox's environment: the daemon (feedback/wayland.py) starts it with the system's python3, writes one JSON
line per change on its stdin ({"visible": bool, "state": str, "text": str}) and reads one line back per frame
shown ("shown STATE TEXT" or "hidden"). The surface sits on the overlay layer at the bottom centre, asks for
no keyboard (keyboard mode none: it never takes the focus) and has an empty input region (clicks go through).
It exits when its stdin closes.

    /usr/bin/python3 layer_shell_window.py     # prints "ready" once the surface can be shown
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("GtkLayerShell", "0.1")
from gi.repository import GLib, Gtk, GtkLayerShell  # noqa: E402 - after require_version

COLOURS = {"recording": "#b02020", "transcribing": "#204890", "injecting": "#207030", "error": "#703000"}
MARGIN = 48
MAX_CHARS = 100  # longer lines lose their beginning


class IndicatorWindow:
    def __init__(self) -> None:
        self.window = Gtk.Window()
        self.window.set_title("onevox")
        GtkLayerShell.init_for_window(self.window)
        GtkLayerShell.set_namespace(self.window, "onevox-indicator")
        GtkLayerShell.set_layer(self.window, GtkLayerShell.Layer.OVERLAY)
        GtkLayerShell.set_anchor(self.window, GtkLayerShell.Edge.BOTTOM, True)
        GtkLayerShell.set_margin(self.window, GtkLayerShell.Edge.BOTTOM, MARGIN)
        GtkLayerShell.set_keyboard_mode(self.window, GtkLayerShell.KeyboardMode.NONE)
        self.label = Gtk.Label()
        self.label.set_margin_start(12)
        self.label.set_margin_end(12)
        self.label.set_margin_top(6)
        self.label.set_margin_bottom(6)
        self.label.set_ellipsize(3)  # Pango.EllipsizeMode.START: the newest words stay in view
        self.label.set_max_width_chars(MAX_CHARS)
        self.window.add(self.label)
        self.css = Gtk.CssProvider()
        Gtk.StyleContext.add_provider_for_screen(self.window.get_screen(), self.css,
                                                 Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)
        self.window.connect("realize", self._no_input)

    def _no_input(self, _widget: Any) -> None:
        try:
            import cairo

            self.window.input_shape_combine_region(cairo.Region())
        except Exception:  # no python3-gi-cairo: clicks on it reach it (it still takes no keyboard)
            pass

    def show(self, view: dict[str, Any]) -> None:
        if not view.get("visible"):
            self.window.hide()
            print("hidden", flush=True)
            return
        state = str(view.get("state", ""))
        colour = COLOURS.get(state, "#303030")
        css = f"window {{ background-color: {colour}; }} label {{ color: white; }}"
        self.css.load_from_data(css.encode())
        text = str(view.get("text", ""))
        self.label.set_text(text)
        self.label.set_width_chars(min(len(text), MAX_CHARS))  # an ellipsizing label asks for no width
        self.window.resize(1, 1)  # shrink to the new text
        self.window.show_all()
        print(f"shown {state} {view.get('text', '')}", flush=True)


def main() -> None:
    indicator = IndicatorWindow()
    pending = bytearray()

    def on_input(channel: GLib.IOChannel, condition: GLib.IOCondition) -> bool:
        data = os.read(sys.stdin.fileno(), 65536)
        if not data:  # the daemon closed the pipe (it stopped, or turned the indicator off)
            Gtk.main_quit()
            return False
        pending.extend(data)
        while b"\n" in pending:
            line, _, rest = bytes(pending).partition(b"\n")
            pending[:] = rest
            try:
                indicator.show(json.loads(line))
            except (ValueError, TypeError) as exc:
                print(f"bad line: {exc}", flush=True)
        return True

    GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.PRIORITY_DEFAULT,
                      GLib.IOCondition.IN | GLib.IOCondition.HUP, on_input)
    print("ready", flush=True)
    Gtk.main()


if __name__ == "__main__":
    main()
