"""What the recording indicator shows, worked out from the daemon's events alone (no X, no threads), so the
tests can check every transition without a display.

    model = IndicatorModel()
    model.apply({"event": "recording_started", "dictation": 1}, now)   # -> True: the view changed
    model.view.title                                                  # "onevox: recording"
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from onevox.feedback.base import Event

ERROR_SHOWN_S = 4.0  # an error stays on screen this long, then the indicator hides
MAX_WORDS_CHARS = 120  # the live words shown are the last this many characters
SHOWN_STATES = ("recording", "transcribing", "injecting")
LABELS = {"recording": "recording", "transcribing": "transcribing", "injecting": "typing", "error": "error"}


@dataclass(frozen=True)
class IndicatorView:
    """One frame of the indicator: whether it is on screen, the daemon's state, the words so far."""

    visible: bool = False
    state: str = "idle"  # idle | recording | transcribing | injecting | error
    words: str = ""  # live mode: the words recognised so far (the last MAX_WORDS_CHARS of them)
    message: str = ""  # the error, when state is "error"

    @property
    def label(self) -> str:
        return LABELS.get(self.state, self.state)

    @property
    def text(self) -> str:
        """The line drawn in the window."""
        if self.state == "error":
            return f"error: {self.message}" if self.message else "error"
        return f"{self.label}: {self.words}" if self.words else self.label

    @property
    def title(self) -> str:
        """The window's name (WM_NAME, _NET_WM_NAME): what a test, or a screen reader, reads from outside."""
        return f"onevox: {self.text}"


def _tail(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MAX_WORDS_CHARS:
        return text
    cut = text[-MAX_WORDS_CHARS:]
    return "..." + cut[cut.find(" ") + 1:] if " " in cut else "..." + cut


class IndicatorModel:
    """The indicator's state machine. `apply` and `tick` return True when the view changed."""

    def __init__(self) -> None:
        self.view = IndicatorView()
        self.dictation: int | None = None  # the dictation whose words are shown
        self._hide_at: float | None = None

    def apply(self, event: Event, now: float) -> bool:
        kind = event.get("event")
        view = self.view
        if kind == "recording_started":
            self.dictation = event.get("dictation")
            view = IndicatorView(visible=True, state="recording")
        elif kind == "partial" and view.visible and view.state != "error" and self._current(event):
            view = replace(view, visible=True, words=_tail(str(event.get("text", ""))))
        elif kind == "transcribed" and self._current(event) and event.get("text"):
            view = replace(view, words=_tail(str(event["text"])))
        elif kind == "recording_stopped" and self._current(event):
            view = replace(view, visible=True, state="transcribing")
        elif kind == "state":
            view = self._on_state(str(event.get("state", "")), str(event.get("message", "")), now)
        elif kind == "cancelled":
            view = IndicatorView()
        return self._show(view, now)

    def tick(self, now: float) -> bool:
        """Hide an error once it has been shown ERROR_SHOWN_S."""
        if self._hide_at is not None and now >= self._hide_at:
            return self._show(IndicatorView(), now)
        return False

    @property
    def hide_at(self) -> float | None:
        return self._hide_at

    def _current(self, event: Event) -> bool:
        return self.dictation is None or event.get("dictation") == self.dictation

    def _on_state(self, state: str, message: str, now: float) -> IndicatorView:
        if state == "recording":
            if self.view.state == "recording" and self.view.visible:
                return self.view
            return IndicatorView(visible=True, state="recording")
        if state in SHOWN_STATES:
            return replace(self.view, visible=True, state=state, message="")
        if state == "error":
            return IndicatorView(visible=True, state="error", message=message)
        return IndicatorView()  # idle

    def _show(self, view: IndicatorView, now: float) -> bool:
        if view.state == "error":
            if self.view.state != "error" or self._hide_at is None:
                self._hide_at = now + ERROR_SHOWN_S
        else:
            self._hide_at = None
        if view.state == "idle":
            self.dictation = None
        changed = view != self.view
        self.view = view
        return changed
