"""The interface of the text injection stage."""

from __future__ import annotations

from typing import Protocol


class Injector(Protocol):
    """Delivers text to whatever window has focus."""

    name: str  # 'paste', 'type', 'xdotool', 'wtype', 'ydotool', 'stdout'

    def available(self) -> bool:
        """True when the tools and display this method needs are present (cheap: no side effects)."""
        ...

    def inject(self, text: str) -> None:
        """Deliver `text`; raise InjectionError with a user-facing reason when it cannot."""
        ...
