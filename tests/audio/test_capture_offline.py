"""AudioCapture when there is no microphone at all (device lookup replaced by one that finds nothing); the
real device paths are in test_capture.py."""

import time

import pytest

from onevox.audio import capture as capture_module
from onevox.audio.capture import AudioCapture, CaptureOptions
from onevox.config import AudioConfig
from onevox.errors import AudioError

FAST = CaptureOptions(watch_s=0.01, retry_first_s=0.01, retry_cap_s=0.02)


@pytest.fixture
def no_devices(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    rescans: list[int] = []
    monkeypatch.setattr(capture_module, "find_device", lambda spec: None)
    monkeypatch.setattr(capture_module, "refresh_devices", lambda: rescans.append(1))
    return rescans


def test_warm_capture_without_a_device_reports_it_and_keeps_retrying(no_devices: list[int]) -> None:
    events: list[tuple[str, str]] = []
    capture = AudioCapture(AudioConfig(), on_event=lambda *e: events.append(e), options=FAST)
    capture.start()  # no exception: the daemon keeps running and the supervisor keeps looking
    try:
        assert [kind for kind, _ in events] == ["device_lost"]
        assert "no audio input device found" in events[0][1]
        status = capture.status()
        assert not status["open"] and "no audio input device" in status["error"]
        with pytest.raises(AudioError, match="microphone is unavailable"):
            capture.begin(300)
        deadline = time.monotonic() + 5
        while len(no_devices) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(no_devices) >= 3  # rescanned and retried with backoff
        error = capture.status()["error"]
        assert error.count("no audio input device found") == 1, error  # the same cause, said once
        assert [kind for kind, _ in events] == ["device_lost"]  # reported once, not on every retry
    finally:
        capture.close()
    assert capture.read(1.0).size == 0


def test_cold_capture_fails_the_dictation_with_a_clear_error(no_devices: list[int]) -> None:
    events: list[tuple[str, str]] = []
    capture = AudioCapture(AudioConfig(keep_warm=False), on_event=lambda *e: events.append(e), options=FAST)
    capture.start()
    try:
        assert events == [] and not capture.status()["open"]
        with pytest.raises(AudioError, match="no audio input device found"):
            capture.begin(0)
        assert "no audio input device found" in capture.status()["error"]
        time.sleep(0.05)
        assert no_devices == []  # nothing to reopen while no dictation wants the device
    finally:
        capture.close()


def test_a_failing_event_handler_does_not_stop_capture(no_devices: list[int]) -> None:
    def broken(kind: str, message: str) -> None:
        raise RuntimeError("listener bug")

    capture = AudioCapture(AudioConfig(), on_event=broken, options=FAST)
    capture.start()
    try:
        assert capture.status()["error"]
    finally:
        capture.close()
