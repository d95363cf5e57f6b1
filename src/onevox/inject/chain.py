"""Method "auto": try the methods in order and fall through to the next when one fails."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from onevox.errors import InjectionError
from onevox.inject.base import Injector

log = logging.getLogger(__name__)


def unavailable_reason(injector: Injector) -> str | None:
    """Why `injector` cannot work here (None: it can); methods may explain, else a generic reason."""
    explain = getattr(injector, "unavailable_reason", None)
    if explain is not None:
        return explain()
    return None if injector.available() else "not available in this session"


class FallbackInjector:
    """Delivers through the first method that works; `name` is the method that delivered last."""

    def __init__(self, injectors: Sequence[Injector], session: str) -> None:
        self.injectors = list(injectors)
        self.session = session
        self.name = "auto"

    def available(self) -> bool:
        return any(injector.available() for injector in self.injectors)

    def inject(self, text: str) -> None:
        if not text:
            return
        reasons = []
        for injector in self.injectors:
            reason = unavailable_reason(injector)
            if reason is None:
                try:
                    injector.inject(text)
                except InjectionError as exc:
                    reason = str(exc)
                    log.warning("injection by %s failed (%s); trying the next method", injector.name, exc)
                else:
                    self.name = injector.name
                    return
            reasons.append(f"{injector.name}: {reason}")
        if not reasons:
            reasons.append(f"no method works in a '{self.session}' session; set [injection] method = stdout")
        raise InjectionError("the text could not be delivered; " + "; ".join(reasons))

    def close(self) -> None:
        for injector in self.injectors:
            close = getattr(injector, "close", None)
            if close is not None:
                close()
