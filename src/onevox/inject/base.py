"""The interface of the text injection stage."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol

from onevox.errors import InjectionError


class Injector(Protocol):
    """Delivers text to whatever window has focus. InjectorBase gives every part but inject() a default."""

    # 'paste', 'type', 'xdotool', 'wtype', 'remote-desktop', 'portal', 'ydotool', 'stdout'; 'auto': the chain
    name: str

    def unavailable_reason(self) -> str | None:
        """Why this injector cannot work here, in words for the user; None when it can. Cheap: no side
        effects, nothing opened."""
        ...

    def available(self) -> bool:
        """unavailable_reason() is None."""
        ...

    def inject(self, text: str) -> None:
        """Deliver `text`; raise InjectionError with a user-facing reason when it cannot."""
        ...

    def close(self) -> None:
        """Release what delivering holds (X connections, the clipboard it serves). Safe to call twice; the
        injector may open them again if used afterwards."""
        ...


class InjectorBase:
    """The defaults every injector shares: available everywhere, and nothing held to close."""

    name: str

    def unavailable_reason(self) -> str | None:
        return None

    def available(self) -> bool:
        return self.unavailable_reason() is None

    def close(self) -> None:
        return None


class InjectionMethod(InjectorBase, ABC):
    """What every concrete method shares: `available()` from `unavailable_reason()`, and `inject()` that
    skips empty text, refuses with the method's reason, then hands the text to `_deliver`."""

    @abstractmethod
    def unavailable_reason(self) -> str | None:
        """Why this method cannot work here (None: it can)."""

    @abstractmethod
    def _deliver(self, text: str) -> None:
        """Deliver non-empty text; raise InjectionError when it fails."""

    def inject(self, text: str) -> None:
        if not text:
            return
        reason = self.unavailable_reason()
        if reason:
            raise InjectionError(f"{self.name}: {reason}")
        self._deliver(text)


def session_tool_reason(session: str, needed: str, tool: str, hint: str = "") -> str | None:
    """The usual reason a helper-program method cannot run: wrong session kind, or the program missing."""
    from onevox.inject.session import have_tool

    if session != needed:
        kind = "an X11 session" if needed == "x11" else "a Wayland session (WAYLAND_DISPLAY)"
        return f"needs {kind}{hint}"
    return None if have_tool(tool) else f"{tool} is not installed"
