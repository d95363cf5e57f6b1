"""The stdout method: print the text (for scripts and pipes: `onevox daemon --foreground | ...`)."""

from __future__ import annotations

import sys
from typing import TextIO

from onevox.errors import InjectionError
from onevox.inject.base import InjectorBase


class StdoutInjector(InjectorBase):
    name = "stdout"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def inject(self, text: str) -> None:
        if not text:
            return
        stream = self.stream or sys.stdout
        try:
            stream.write(text + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:  # a closed pipe or stream
            raise InjectionError(f"stdout: cannot write the text: {exc}") from exc
