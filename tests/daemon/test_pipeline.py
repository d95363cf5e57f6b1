"""The dictation pipeline: streaming decode, post-roll, history before injection, recordings, empty text."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import numpy as np
import soundfile

from onevox.config import PostProcessingConfig
from onevox.daemon.options import PipelineOptions
from onevox.history import History, HistoryEntry, HistoryError
from onevox.text.postprocess import join_segments, postprocess
from tests.daemon.conftest import WAIT_S, Harness, build_harness, close_harness
from tests.daemon.doubles import FakeInjector

TEXT_CFG = PostProcessingConfig(trailing_space=False)


def test_segments_are_decoded_while_the_user_is_still_speaking(harness: Harness) -> None:
    harness.recognizer.texts = ["the first part", "and the second part"]
    harness.start()
    harness.speak(0.5)
    harness.pause(0.5)  # a pause longer than min_silence_ms closes the first segment
    assert harness.recognizer.entered.wait(WAIT_S)
    assert harness.controller.state == "recording"  # decoded before the key was released
    harness.speak(0.4)
    harness.controller.stop()
    event = harness.log.wait_for("transcribed")
    calls = harness.recognizer.calls
    assert len(calls) == 2 and event["segments"] == 2 and event["early_segments"] == 1
    assert calls[0]["prompt"] == "" and calls[1]["prompt"] == "the first part"
    assert event["raw_text"] == join_segments(["the first part", "and the second part"])
    assert event["text"] == postprocess(event["raw_text"], TEXT_CFG)
    harness.log.wait_for("injected")
    assert harness.injector.texts == [event["text"]]


def test_post_roll_is_read_when_speech_goes_on_at_release(harness: Harness) -> None:
    harness.start()
    harness.speak(0.5)
    stopped = harness.controller.stop()  # still speaking
    event = harness.log.wait_for("transcribed")
    held_s = harness.log.wait_for("recording_stopped")["held_ms"] / 1000
    assert stopped["stopped"] and event["post_roll"] is True
    assert event["audio_s"] >= held_s + 0.3  # the 300 ms tail was read after the release


def test_no_post_roll_when_the_user_has_finished_speaking(harness: Harness) -> None:
    harness.start()
    harness.speak(0.4)
    harness.pause(0.5)
    harness.controller.stop()
    event = harness.log.wait_for("transcribed")
    held_s = harness.log.wait_for("recording_stopped")["held_ms"] / 1000
    assert event["post_roll"] is False
    assert event["audio_s"] < held_s + 0.1 + 0.2  # pre-roll + slack for a busy machine, no 300 ms tail


def test_history_is_written_before_injection(tmp_path: Path) -> None:
    seen: list[HistoryEntry | None] = []
    injector = FakeInjector()
    h = build_harness(tmp_path, injector=injector)
    assert h.history is not None
    injector.check = lambda text: seen.append(h.history.last() if h.history else None)
    try:
        h.recognizer.texts = ["saved first"]
        h.dictate()
        h.log.wait_for("injected")
        assert seen and seen[0] is not None
        assert seen[0].status == "pending" and seen[0].text == injector.texts[0]
        entry = h.history.last()
        assert entry is not None and entry.status == "injected" and entry.method == "fake"
        assert entry.raw_text == "saved first" and entry.model == "fake-model"
        assert {"inference", "vad", "hotkey"} <= set(entry.timings)
    finally:
        close_harness(h)


def test_history_keeps_the_text_when_injection_fails(tmp_path: Path) -> None:
    h = build_harness(tmp_path, injector=FakeInjector(error="xdotool: cannot open display"))
    try:
        h.recognizer.texts = ["do not lose me"]
        h.dictate()
        error = h.log.wait_for("error")
        status = h.idle()
        assert error["stage"] == "injection" and "cannot open display" in error["message"]
        assert h.history is not None
        entry = h.history.last()
        assert entry is not None and "do not lose me" in entry.text.lower()
        assert entry.status == "failed" and "cannot open display" in entry.error
        assert status["state"] == "error" and f"history #{entry.id}" in status["last_error"]
    finally:
        close_harness(h)


class _BrokenHistory(History):
    def add(self, entry: HistoryEntry) -> int:
        raise HistoryError("cannot save the dictation to history database x: disk I/O error")


def test_text_is_injected_even_when_history_cannot_be_written(tmp_path: Path) -> None:
    broken = _BrokenHistory(tmp_path / "h.sqlite3")
    h = build_harness(tmp_path, history_store=broken)
    try:
        h.recognizer.texts = ["still typed"]
        h.dictate()
        h.log.wait_for("injected")
        error = h.log.wait_for("error")
        assert error["stage"] == "history" and not error["fatal"]
        assert len(h.injector.texts) == 1
        assert h.idle()["state"] == "idle"
    finally:
        close_harness(h)


def test_silence_injects_nothing_and_the_event_says_so(harness: Harness) -> None:
    harness.start()
    harness.pause(0.4)
    harness.controller.stop()
    event = harness.log.wait_for("transcribed")
    harness.idle()
    assert event["empty"] is True and event["text"] == "" and "nothing injected" in event["note"]
    assert harness.recognizer.calls == [] and harness.injector.texts == []
    assert harness.history is not None and harness.history.count() == 0
    assert harness.controller.state == "idle"


def test_a_hallucinated_segment_is_dropped(harness: Harness) -> None:
    harness.recognizer.texts = ["Thank you."]
    event = harness.dictate()
    harness.idle()
    assert len(harness.recognizer.calls) == 1
    assert event["empty"] is True and harness.injector.texts == []


def test_recordings_are_saved_only_when_asked(tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    h = build_harness(tmp_path, options=PipelineOptions(pre_roll_ms=100, save_recordings=True,
                                                        recordings_dir=rec))
    try:
        event = h.dictate()
        path = Path(event["recording"])
        assert path.parent == rec and stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(rec).st_mode) == 0o700
        info = soundfile.info(str(path))
        assert info.samplerate == 16000 and abs(info.duration - event["audio_s"]) < 0.01
    finally:
        close_harness(h)
    off = build_harness(tmp_path / "off")
    try:
        event = off.dictate()
        assert "recording" not in event and not (tmp_path / "off" / "rec").exists()
    finally:
        close_harness(off)


def test_pre_roll_never_reaches_into_the_previous_dictation(tmp_path: Path) -> None:
    h = build_harness(tmp_path, options=PipelineOptions(pre_roll_ms=1000))
    try:
        h.start()
        h.pause(0.2)
        h.controller.stop()
        h.start()  # at once: only the audio since the first one ended may be kept
        h.log.wait_for("recording_started", lambda e: e["dictation"] == 2)
        _wait_for_begins(h, 2)
        assert h.mic.begins[0] >= 1000
        assert h.mic.begins[1] < 1000
    finally:
        close_harness(h)


def test_every_stage_is_measured(harness: Harness) -> None:
    harness.recognizer.texts = ["measure me"]
    harness.dictate()
    harness.log.wait_for("injected")
    harness.idle()
    latencies = harness.status()["latencies"]
    for stage in ("hotkey", "capture", "vad", "inference", "postprocess", "history", "injection",
                  "release_to_text"):
        assert latencies[stage]["count"] >= 1, stage
    assert latencies["release_to_text"]["last"] >= latencies["injection"]["last"]
    spans = {e["name"] for e in harness.metrics.trace_events()}
    assert {"inference", "injection"} <= spans


def _wait_for_begins(h: Harness, count: int) -> None:
    waiter = threading.Event()
    for _ in range(int(WAIT_S / 0.01)):
        if len(h.mic.begins) >= count:
            return
        waiter.wait(0.01)
    raise AssertionError(f"begin() called {len(h.mic.begins)} times, expected {count}")


def _early_harness(tmp_path: Path, early_ms: int) -> Harness:
    # segments close after 300 ms of silence (see make_segmenter); an early decode starts after early_ms
    return build_harness(tmp_path, options=PipelineOptions(pre_roll_ms=100, early_decode_ms=early_ms,
                                                           min_speech_ms=100))


def test_a_pause_before_release_is_used_to_decode_early(tmp_path: Path) -> None:
    h = _early_harness(tmp_path, 100)
    try:
        h.recognizer.texts = ["decoded during the pause"]
        h.start()
        h.speak(0.5)
        h.pause(0.2)  # long enough for the early decode, too short to close the segment
        assert h.recognizer.entered.wait(WAIT_S)
        h.controller.stop()
        event = h.log.wait_for("transcribed")
        assert len(h.recognizer.calls) == 1 and event["reused"] == 1 and event["segments"] == 1
        assert event["raw_text"] == "decoded during the pause"
    finally:
        close_harness(h)


def test_speech_after_the_pause_throws_the_early_decode_away(tmp_path: Path) -> None:
    h = _early_harness(tmp_path, 100)
    try:
        h.recognizer.texts = ["half a sentence", "the whole sentence"]
        h.start()
        h.speak(0.4)
        h.pause(0.2)
        assert h.recognizer.entered.wait(WAIT_S)  # the early decode ran
        h.speak(0.3)  # ...but the user went on
        h.pause(0.1)
        h.controller.stop()
        event = h.log.wait_for("transcribed")
        calls = h.recognizer.calls
        assert len(calls) == 2 and event["reused"] == 0
        assert calls[1]["samples"] > calls[0]["samples"]  # the whole segment, decoded again
        assert event["raw_text"] == "the whole sentence"
    finally:
        close_harness(h)


def test_early_decoding_can_be_turned_off(tmp_path: Path) -> None:
    h = _early_harness(tmp_path, 0)
    try:
        h.recognizer.texts = ["only after the release"]
        h.start()
        h.speak(0.4)
        h.pause(0.25)
        assert h.recognizer.calls == []
        h.controller.stop()
        event = h.log.wait_for("transcribed")
        assert len(h.recognizer.calls) == 1 and event["reused"] == 0
    finally:
        close_harness(h)


def test_pause_watcher_keeps_the_audio_after_a_split_segment() -> None:
    from onevox.daemon.early import PauseWatcher
    from onevox.vad.segmenter import SpeechSegment

    watcher = PauseWatcher(after=300, min_speech=200, lead_in=100)
    chunk = np.ones(100, np.float32)
    for _ in range(10):  # 1000 samples of speech
        assert watcher.push(chunk, True, []) is None
    split = SpeechSegment(0, 650, np.zeros(650, np.float32))  # cut inside the running speech
    assert watcher.push(chunk, True, [split]) is None
    assert watcher.push(chunk * 0, False, []) is None
    assert watcher.push(chunk * 0, False, []) is None
    early = watcher.push(chunk * 0, False, [])
    assert early is not None
    assert early.audio.size == 1400 - 600  # from the chunk holding sample 650 to the end
    assert watcher.take([SpeechSegment(650, 1200, np.zeros(550, np.float32))]) is early
    assert watcher.take([]) is None  # used once


def test_pause_watcher_keeps_only_a_short_lead_in_before_speech() -> None:
    from onevox.daemon.early import PauseWatcher

    watcher = PauseWatcher(after=200, min_speech=100, lead_in=150)
    silence, speech = np.zeros(100, np.float32), np.ones(100, np.float32)
    for _ in range(50):
        watcher.push(silence, False, [])
    watcher.push(speech, True, [])
    watcher.push(silence, False, [])
    early = watcher.push(silence, False, [])
    assert early is not None and early.audio.size <= 200 + 100 + 200  # lead-in, speech, pause
    watcher.push(speech, True, [])
    assert early.stale and watcher.take([]) is None
