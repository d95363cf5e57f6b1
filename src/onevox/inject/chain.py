"""Method "auto": try the methods in order and fall through to the next when one fails."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from onevox.errors import InjectionError
from onevox.inject.base import Injector, InjectorBase

log = logging.getLogger(__name__)


class FallbackInjector(InjectorBase):
    """Delivers through the first method that works; `name` is the method that delivered last."""

    def __init__(self, injectors: Sequence[Injector], session: str) -> None:
        self.injectors = list(injectors)
        self.session = session
        self.name = "auto"

    def unavailable_reason(self) -> str | None:
        """None when any method can work; else every method's reason."""
        reasons = []
        for injector in self.injectors:
            reason = injector.unavailable_reason()
            if reason is None:
                return None
            reasons.append(f"{injector.name}: {reason}")
        return "; ".join(reasons) or f"no method works in a '{self.session}' session"

    def inject(self, text: str) -> None:
        if not text:
            return
        reasons = []
        for injector in self.injectors:
            reason = injector.unavailable_reason()
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
            injector.close()
