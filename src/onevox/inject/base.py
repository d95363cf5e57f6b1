"""The interface of the text injection stage."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol

from onevox.errors import InjectionError


class Injector(Protocol):
    """Delivers text to whatever window has focus."""

    name: str  # 'paste', 'type', 'xdotool', 'wtype', 'ydotool', 'stdout'

    def available(self) -> bool:
        """True when the tools and display this method needs are present (cheap: no side effects)."""
        ...

    def inject(self, text: str) -> None:
        """Deliver `text`; raise InjectionError with a user-facing reason when it cannot."""
        ...


class InjectionMethod(ABC):
    """What every concrete method shares: `available()` from `unavailable_reason()`, and `inject()` that
    skips empty text, refuses with the method's reason, then hands the text to `_deliver`."""

    name: str

    @abstractmethod
    def unavailable_reason(self) -> str | None:
        """Why this method cannot work here (None: it can)."""

    @abstractmethod
    def _deliver(self, text: str) -> None:
        """Deliver non-empty text; raise InjectionError when it fails."""

    def available(self) -> bool:
        return self.unavailable_reason() is None

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
