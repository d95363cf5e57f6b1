"""What an end-to-end test needs installed. `scripts/setup.sh --test` installs all of it, so a missing tool
fails the test with the fix, rather than skipping it: a skipped test proves nothing."""

from __future__ import annotations

import shutil
from collections.abc import Sequence

import pytest

from tests.support.desktop import missing_tools
from tests.support.pulse import pulse_available

PULSE = "PulseAudio (pulseaudio, pactl, paplay, pacat)"
INSTALL_HINT = "scripts/setup.sh --test (or scripts/install-system-deps.sh --with-test) installs it"


def require_tools(extra: Sequence[str] = (), *, pulse: bool = False) -> None:
    """Fail the calling test unless the virtual desktop's tools (plus `extra`, plus PulseAudio's) exist."""
    missing = missing_tools(extra)
    if pulse and not pulse_available():
        missing.append(PULSE)
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}; {INSTALL_HINT}")


def require_pulse() -> None:
    if not pulse_available():
        pytest.fail(f"not installed: {PULSE}; {INSTALL_HINT}")


def require_program(name: str) -> None:
    if shutil.which(name) is None:
        pytest.fail(f"{name} is not installed; {INSTALL_HINT}")
