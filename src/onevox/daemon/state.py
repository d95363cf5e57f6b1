"""The names the daemon's state machine and its dictations report: in status, events and history."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """What the daemon is doing: idle -> recording -> transcribing -> injecting -> idle, or error."""

    IDLE = "idle"
    RECORDING = "recording"
    TRANSCRIBING = "transcribing"
    INJECTING = "injecting"
    ERROR = "error"  # the last dictation failed, or nothing can be dictated (a fault)


class Outcome(StrEnum):
    """How a dictation ended."""

    PENDING = ""  # still in flight
    INJECTED = "injected"  # the text went into the window
    EMPTY = "empty"  # nothing was recognised, nothing injected
    FAILED = "failed"  # injection failed; the text is in the history
    CANCELLED = "cancelled"  # dropped before injection
    DISABLED = "disabled"  # a profile turns dictation off in the window: the text is only in the history
    COMMAND = "command"  # an edit command, carried out
    REFUSED = "refused"  # an edit command that was not safe or not possible (d.command_result says why)


class AudioEvent(StrEnum):
    """What an audio source reports about its device, from its own thread."""

    LOST = "device_lost"
    RESTORED = "device_restored"
    FALLBACK = "device_fallback"
    CHANGED = "device_changed"  # a reload reopened the input with new settings
