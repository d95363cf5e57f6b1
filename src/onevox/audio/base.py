"""The interface of a live audio source: a microphone (`AudioCapture`) or a file played like one
(`FileAudioSource`)."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class AudioSource(Protocol):
    """Delivers the audio of one dictation at a time as 16 kHz mono float32.

    Life cycle: `start()` once, then any number of `begin()` / `read()`... / `end()` dictations, then
    `close()`. `read()` is called from one worker thread; the other methods may come from any thread.
    """

    device_name: str  # what is being listened to, for status and logs

    def start(self) -> None:
        """Open the source. With keep_warm the stream stays open from now on, so begin() is instant and
        pre-roll exists."""
        ...

    def close(self) -> None:
        """Stop everything and release the device (idempotent)."""
        ...

    def begin(self, pre_roll_ms: int) -> None:
        """A dictation starts: reading begins `pre_roll_ms` before now (as far as the audio kept allows)."""
        ...

    def read(self, timeout: float) -> np.ndarray:
        """The next audio of the dictation (16 kHz mono float32), waiting up to `timeout` seconds; an empty
        array on timeout. After `end()` it returns what was captured up to the end (and the resampler's
        held-back tail), then empty arrays without waiting; outside a dictation it never waits."""
        ...

    def end(self) -> None:
        """The dictation is over: nothing after this moment is returned. The stream stays open with
        keep_warm."""
        ...

    def status(self) -> dict[str, Any]:
        """At least: device (name), rate (device rate in Hz), open (bool), error (str or None)."""
        ...
