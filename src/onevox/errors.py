"""Exceptions with messages a user can act on.

The CLI turns every `OnevoxError` into one line on stderr and a non-zero exit code; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations


class OnevoxError(Exception):
    """Base class for expected failures: the message is shown to the user as is."""

    exit_code = 1


class ConfigError(OnevoxError):
    """A config file that cannot be used: names the file, the key and what is allowed."""

    exit_code = 2

    def __init__(self, path: str, key: str, message: str) -> None:
        self.path = path
        self.key = key
        self.detail = message
        where = f"{path}: {_printable(key)}" if key else path
        super().__init__(f"{where}: {message}")


class ModelError(OnevoxError):
    """A model that cannot be found, downloaded or loaded."""


class AudioError(OnevoxError):
    """An audio file or device that cannot be read."""


class InjectionError(OnevoxError):
    """Text that could not be delivered to the focused window."""


class HotkeyError(OnevoxError):
    """A hotkey that cannot be parsed or listened to."""


class IpcError(OnevoxError):
    """The daemon could not be reached, or answered with an error."""

    def __init__(self, message: str, code: str = "ipc_error") -> None:
        self.code = code
        super().__init__(message)


def _printable(name: str, limit: int = 80) -> str:
    """A config key as shown in a one-line message: control characters escaped, very long names clipped."""
    shown = name if name.isprintable() else repr(name)[1:-1]
    return shown if len(shown) <= limit else f"{shown[:limit]}..."
