"""Delivering the text to the focused window: the methods and `create_injector`, which picks them.

Method "auto" is a fallback chain chosen by session: X11 paste -> type -> xdotool; Wayland wtype ->
remote-desktop (GNOME Mutter's D-Bus service) -> paste (wl-copy) -> portal (the XDG RemoteDesktop portal) ->
ydotool, with remote-desktop then portal first on GNOME (XDG_CURRENT_DESKTOP), where wtype always fails, and
paste then portal first on KDE, where paste presses the paste keys through KWin's fake-input protocol (which
needs an authorisation file; the portal needs none). Text is never dropped silently: when every method
fails, InjectionError lists why.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from onevox.config import InjectionConfig
from onevox.desktop import detect_session
from onevox.errors import InjectionError
from onevox.inject.base import Injector

if TYPE_CHECKING:
    from onevox.inject.xkeyboard import SharedKeyboard

__all__ = ["AUTO_ORDER", "Injector", "auto_order", "create_injector", "detect_session"]

AUTO_ORDER: dict[str, tuple[str, ...]] = {
    "x11": ("paste", "type", "xdotool"),
    "wayland": ("wtype", "remote-desktop", "paste", "portal", "ydotool"),
    "none": (),
}


def auto_order(session: str, environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The methods "auto" tries, in order. GNOME has no virtual-keyboard protocol, so wtype cannot work
    there: its own RemoteDesktop service goes first, then the RemoteDesktop portal (and wtype stays in the
    chain, in case). KWin offers no virtual keyboard either: paste (wl-copy + KWin fake input) goes first on
    KDE, then the portal, which needs no authorisation file."""
    order = AUTO_ORDER[session]
    env = os.environ if environ is None else environ
    desktops = env.get("XDG_CURRENT_DESKTOP", "").lower().split(":")
    first: tuple[str, ...] = ()
    if session == "wayland" and "gnome" in desktops:
        first = ("remote-desktop", "portal")
    elif session == "wayland" and "kde" in desktops:
        first = ("paste", "portal")
    return (*first, *(m for m in order if m not in first))


def create_injector(cfg: InjectionConfig, session: str | None = None) -> Injector:
    """The injector for cfg.method ("auto": a FallbackInjector whose `.name` reports the method used last).
    Cheap: nothing is opened until the first inject(). Bad paste key settings raise InjectionError."""
    from onevox.inject.chain import FallbackInjector
    from onevox.inject.xkeyboard import SharedKeyboard

    session = session or detect_session()
    keyboard = SharedKeyboard()
    if cfg.method != "auto":
        return _build(cfg.method, cfg, session, keyboard)
    methods = [_build(m, cfg, session, keyboard, in_chain=True) for m in auto_order(session)]
    return FallbackInjector(methods, session)


def _build(method: str, cfg: InjectionConfig, session: str, keyboard: SharedKeyboard,
           in_chain: bool = False) -> Injector:
    if method == "paste":
        from onevox.inject.paste import PasteInjector

        # in a chain, a clipboard holding an image is left alone and the next method types instead
        return PasteInjector(cfg, session, keyboard, protect_clipboard=in_chain)
    if method == "type":
        from onevox.inject.xtype import TypeInjector

        return TypeInjector(cfg, session, keyboard)
    if method == "xdotool":
        from onevox.inject.tools import XdotoolInjector

        return XdotoolInjector(cfg, session, keyboard)
    if method == "remote-desktop":
        from onevox.inject.remote_desktop import RemoteDesktopInjector

        return RemoteDesktopInjector(cfg)
    if method == "portal":
        from onevox.inject.rd_portal import PortalInjector

        return PortalInjector(cfg)
    if method == "stdout":
        from onevox.inject.stdout import StdoutInjector

        return StdoutInjector()
    from onevox.inject import tools

    builders = {"wtype": tools.WtypeInjector, "ydotool": tools.YdotoolInjector}
    if method not in builders:
        allowed = ", ".join(["auto", "paste", "type", "xdotool", *builders, "remote-desktop", "portal",
                             "stdout"])
        raise InjectionError(f"injection.method {method!r} is not one of: {allowed}")
    return builders[method](cfg, session)
