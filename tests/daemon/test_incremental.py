"""Incremental decoding: the ASR worker's side on hand-made snapshots, and the whole pipeline on doubles
(passes while speaking, one at a time; live words in the window before the stop)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from onevox.asr.base import TimedTranscript, Transcript, Word, WordRecognizer
from onevox.audio import SAMPLE_RATE
from onevox.daemon.early import Snapshot
from onevox.daemon.incremental import IncrementalDecoder, IncrementalOptions, cut_off
from onevox.daemon.options import PipelineOptions
from onevox.daemon.record import Dictation
from onevox.vad.segmenter import SpeechSegment
from tests.daemon.conftest import Harness, build_harness, close_harness
from tests.daemon.doubles import FakeRecognizer

WORD_S = 0.4  # the fake speaker says one word every 0.4 s


def stream(start_s: float, end_s: float) -> np.ndarray:
    """Audio whose samples say where they are in the stream (the fake recognizer reads them)."""
    first, last = round(start_s * SAMPLE_RATE), round(end_s * SAMPLE_RATE)
    return (np.arange(first, last, dtype=np.float64) / 1e7).astype(np.float32)


class PositionalRecognizer:
    """Hears word k ("wK") in [k * WORD_S, (k + 1) * WORD_S) of the stream; a word cut by the end of the
    audio is heard only once 80 % of it is there."""

    model_name = "positional"

    def __init__(self) -> None:
        self.gate: threading.Event | None = None  # what close_harness releases
        self.calls: list[tuple[str, float, float, str]] = []  # (kind, start_s, end_s, prompt)
        self.until_s = float("inf")  # the speaker stops here
        self.speech: list[bool] = []  # what each word decode was told of its audio
        self.known: list[float] = []  # ...and of the words it need not write again

    def _span(self, audio: np.ndarray) -> tuple[float, float]:
        start = round(float(audio[0]) * 1e7) / SAMPLE_RATE if audio.size else 0.0
        return start, start + audio.size / SAMPLE_RATE

    def _words(self, start: float, end: float, known_s: float = 0.0) -> list[Word]:
        first = int((start + known_s) / WORD_S + 0.5)
        out = []
        k = first
        while (k + 0.8) * WORD_S <= end and (k + 1) * WORD_S <= self.until_s:
            out.append(Word(f" w{k}", round(k * WORD_S - start, 3), round((k + 1) * WORD_S - start, 3)))
            k += 1
        return out

    def transcribe_words(self, audio: np.ndarray, *, prompt: str = "", language: str | None = None,
                         fallback: bool = True, timed: bool = True, speech: bool = False,
                         known_s: float = 0.0, abandon: object = None) -> TimedTranscript:
        start, end = self._span(audio)
        self.calls.append(("words", start, end, prompt))
        self.speech.append(speech)
        self.known.append(known_s)
        return TimedTranscript(words=tuple(self._words(start, end, known_s)), audio_s=end - start)

    def transcribe(self, audio: np.ndarray, *, prompt: str = "", language: str | None = None) -> Transcript:
        start, end = self._span(audio)
        self.calls.append(("text", start, end, prompt))
        text = "".join(w.text for w in self._words(start, end)).strip()
        return Transcript(text=text, audio_s=end - start, model=self.model_name)

    def warm_up(self) -> None:
        pass


def decoder(recognizer: PositionalRecognizer, live: bool = False) -> IncrementalDecoder:
    def words(d: Dictation, audio: np.ndarray, prompt: str, *, timed: bool = True,
              final: bool = False, known_s: float = 0.0) -> TimedTranscript:
        return recognizer.transcribe_words(audio, prompt=prompt, fallback=False, timed=timed, speech=final,
                                           known_s=known_s)

    def text(d: Dictation, audio: np.ndarray, prompt: str) -> str:
        return recognizer.transcribe(audio, prompt=prompt).text

    return IncrementalDecoder(words, text, IncrementalOptions(), live)


def snap(end_s: float, start_s: float = 0.0) -> Snapshot:
    return Snapshot(stream(start_s, end_s), round(start_s * SAMPLE_RATE))


def segment(start_s: float, end_s: float) -> SpeechSegment:
    return SpeechSegment(round(start_s * SAMPLE_RATE), round(end_s * SAMPLE_RATE), stream(start_s, end_s))


def test_the_positional_double_is_a_word_recognizer() -> None:
    assert isinstance(PositionalRecognizer(), WordRecognizer)
    assert not IncrementalDecoder.supports(FakeRecognizer())


def test_passes_settle_words_and_the_final_decodes_only_what_follows_them() -> None:
    recognizer = PositionalRecognizer()
    inc = decoder(recognizer)
    d = Dictation(1)
    for second in range(1, 7):
        inc.run_pass(d, snap(float(second)))
    assert inc.settled_text(d) == " ".join(f"w{k}" for k in range(12))  # what two passes agreed on
    recognizer.calls.clear()
    text = inc.final_text(d, segment(0.0, 8.0))
    assert text == " ".join(f"w{k}" for k in range(20))
    (kind, start, end, prompt), = recognizer.calls
    # only the rest: heard from rest_context_s (2 s) before the cut, with every settled word as the prompt
    # and told to begin (a little before) the cut, so that it writes only what follows them
    assert kind == "words" and start == pytest.approx(7 * WORD_S) and end == 8.0
    early = IncrementalOptions().known_early_s
    assert prompt.endswith("w10 w11") and recognizer.known[-1] == pytest.approx(12 * WORD_S - start - early)
    # the passes may be doubted for "maybe no speech" (the next pass comes); the decode the user waits for
    # is of audio the VAD heard speech in, and is not sent to the full window on the model's doubt
    assert recognizer.speech == [False] * 6 + [True]


def test_a_short_final_segment_is_decoded_whole() -> None:
    recognizer = PositionalRecognizer()
    inc = decoder(recognizer)
    d = Dictation(1)
    inc.run_pass(d, snap(1.0))
    inc.run_pass(d, snap(2.0))
    recognizer.calls.clear()
    assert inc.final_text(d, segment(0.0, 2.4)) == "w0 w1 w2 w3 w4 w5"
    assert recognizer.calls == [("text", 0.0, 2.4, "")]


def test_the_release_decode_stands_when_the_tail_brought_no_speech() -> None:
    recognizer = PositionalRecognizer()
    inc = decoder(recognizer)
    d = Dictation(1)
    inc.release(d, snap(2.4))
    recognizer.calls.clear()
    d.tail_speech = False
    assert inc.final_text(d, segment(0.0, 2.6)) == "w0 w1 w2 w3 w4 w5"
    assert recognizer.calls == [] and d.reused == 1


def test_the_release_decode_is_redone_when_speech_went_on() -> None:
    recognizer = PositionalRecognizer()
    inc = decoder(recognizer)
    d = Dictation(1)
    inc.release(d, snap(2.3))  # the stop cut "w5" (2.0-2.4 s)
    d.tail_speech = True
    assert inc.final_text(d, segment(0.0, 2.6)) == "w0 w1 w2 w3 w4 w5"
    assert recognizer.calls[-1] == ("text", 0.0, 2.6, "")


class DoubtingRecognizer(PositionalRecognizer):
    """Doubts every decode it is asked not to fall back on (what the engine does on a hard short window)."""

    def transcribe_words(self, audio: np.ndarray, *, prompt: str = "", language: str | None = None,
                         fallback: bool = True, timed: bool = True, speech: bool = False,
                         known_s: float = 0.0, abandon: object = None) -> TimedTranscript:
        heard = super().transcribe_words(audio, prompt=prompt, language=language, timed=timed,
                                         known_s=known_s)
        if fallback or not self.doubt or self.doubts <= 0:
            return heard
        self.doubts -= 1
        return TimedTranscript(words=(), audio_s=heard.audio_s, doubt="no words, but maybe speech")

    doubt = False
    doubts = 1_000_000  # how many decodes in a row it doubts once `doubt` is set


def test_a_doubted_last_decode_takes_the_last_passes_words_when_they_heard_nearly_all() -> None:
    recognizer = DoubtingRecognizer()
    recognizer.until_s = 5.65  # w13 ends at 5.6 s: the last pass hears the speech stop after it
    inc = decoder(recognizer)
    d = Dictation(1)
    for second in range(1, 7):
        inc.run_pass(d, snap(float(second)))
    pending = "".join(w.text for w in d.agreement.pending) if d.agreement else ""
    recognizer.doubt = True
    recognizer.calls.clear()
    text = inc.final_text(d, segment(0.0, 6.3))  # the last pass heard up to 6.0 s
    assert text.endswith(pending.strip()) and pending.endswith("w13")
    # told the settled words, then writing them again: both doubted; no full-window decode
    assert [call[0] for call in recognizer.calls] == ["words", "words"]
    assert recognizer.known[-2] > 0 and recognizer.known[-1] == 0


def test_a_doubted_last_decode_does_not_take_a_last_word_cut_off_where_the_last_pass_ended() -> None:
    """The last pass's last word was cut off where it stopped listening ("buy" heard as "be-"): the audio
    is decoded in full instead."""
    recognizer = DoubtingRecognizer()
    inc = decoder(recognizer)
    d = Dictation(1)
    for second in range(1, 7):
        inc.run_pass(d, snap(float(second)))
    assert d.agreement is not None
    last = d.agreement.pending[-1]
    d.agreement.pending[-1] = Word(last.text + "-", last.start_s, last.end_s)
    recognizer.doubt = True
    text = inc.final_text(d, segment(0.0, 6.3))
    assert recognizer.calls[-1][0] == "text"
    assert text == " ".join(f"w{k}" for k in range(15))


def test_a_doubted_last_decode_far_from_the_last_pass_is_decoded_in_full() -> None:
    recognizer = DoubtingRecognizer()
    inc = decoder(recognizer)
    d = Dictation(1)
    for second in range(1, 7):
        inc.run_pass(d, snap(float(second)))
    recognizer.doubt = True
    text = inc.final_text(d, segment(0.0, 8.0))
    assert text == " ".join(f"w{k}" for k in range(20))
    assert recognizer.calls[-1][0] == "text"


def test_live_mode_closes_a_segment_with_its_settled_words_and_the_next_starts_after_it() -> None:
    recognizer = PositionalRecognizer()
    inc = decoder(recognizer, live=True)
    d = Dictation(1)
    for second in (1.0, 2.0, 3.0):
        inc.run_pass(d, snap(second))
    settled = inc.settled_text(d)
    closed = inc.closed_text(d, segment(0.0, 3.2))
    assert closed is not None and closed.startswith(settled) and closed.endswith("w7")
    assert d.agreement is None and d.closed_end == round(3.2 * SAMPLE_RATE)
    # the capture's lead-in reaches back into the closed segment: the next agreement starts after it
    inc.run_pass(d, snap(4.4, start_s=2.9))
    assert d.agreement is not None and d.agreement.buffer_s == 3.2


def test_without_live_mode_a_segment_closed_while_speaking_is_decoded_whole() -> None:
    inc = decoder(PositionalRecognizer())
    d = Dictation(1)
    inc.run_pass(d, snap(1.0))
    inc.run_pass(d, snap(2.0))
    assert inc.closed_text(d, segment(0.0, 2.4)) is None


class GatedRecognizer(PositionalRecognizer):
    """Holds every word decode until released, to show that passes are never queued behind each other."""

    def __init__(self) -> None:
        super().__init__()
        self.held = threading.Event()
        self.gate = self.held

    def transcribe_words(self, audio: np.ndarray, *, prompt: str = "", language: str | None = None,
                         fallback: bool = True, timed: bool = True, speech: bool = False,
                         known_s: float = 0.0, abandon: object = None) -> TimedTranscript:
        self.held.wait(10)
        return super().transcribe_words(audio, prompt=prompt, language=language, fallback=fallback,
                                        timed=timed, known_s=known_s)


def passes_harness(tmp_path: Path, recognizer: PositionalRecognizer) -> Harness:
    """The pipeline on `recognizer` with a pass every 0.5 s of speech and no early decodes."""
    return build_harness(tmp_path, recognizer=recognizer,  # type: ignore[arg-type]
                         options=PipelineOptions(pre_roll_ms=0, post_roll_ms=300, pass_interval_ms=500,
                                                 early_decode_ms=0))


def test_under_load_passes_are_skipped_not_queued(tmp_path: Path) -> None:
    recognizer = GatedRecognizer()
    h = passes_harness(tmp_path, recognizer)
    try:
        h.start()
        h.speak(6.0)  # twelve intervals of speech while the first pass is stuck
        recognizer.held.set()
        h.pause(0.5)
        h.controller.stop()
        event = h.log.wait_for("transcribed")
        # the stuck one, the one waiting behind it, and at most one more as speech ends - not one per interval
        assert 1 <= event["passes"] <= 3
    finally:
        recognizer.held.set()
        close_harness(h)


class StuckPassRecognizer(PositionalRecognizer):
    """A pass never finishes on its own (a slow model's pass): it returns only once it is given up."""

    def __init__(self) -> None:
        super().__init__()
        self.given_up: list[bool] = []  # per pass: whether it was given up (rather than timed out)

    def transcribe_words(self, audio: np.ndarray, *, prompt: str = "", language: str | None = None,
                         fallback: bool = True, timed: bool = True, speech: bool = False,
                         known_s: float = 0.0, abandon: Callable[[], bool] | None = None) -> TimedTranscript:
        if speech:  # the decode the user waits for
            return super().transcribe_words(audio, prompt=prompt, language=language, fallback=fallback,
                                            timed=timed, speech=speech, known_s=known_s)
        deadline = time.monotonic() + 10
        while not (abandon is not None and abandon()) and time.monotonic() < deadline:
            time.sleep(0.005)
        self.given_up.append(abandon is not None and abandon())
        return TimedTranscript(words=(), audio_s=audio.size / SAMPLE_RATE, doubt="abandoned")


def test_a_pass_still_decoding_at_the_stop_is_given_up_for_the_decode_the_user_waits_for(
        tmp_path: Path) -> None:
    recognizer = StuckPassRecognizer()
    h = passes_harness(tmp_path, recognizer)
    try:
        h.start()
        h.speak(4.0)  # the first pass is stuck from its start
        h.controller.stop()
        event = h.log.wait_for("transcribed", timeout=5.0)
        assert recognizer.given_up == [True]
        assert event["text"].lower().split() == [f"w{k}" for k in range(10)]  # four seconds of words
    finally:
        close_harness(h)


def test_live_words_reach_the_window_before_the_stop(tmp_path: Path) -> None:
    h = build_harness(tmp_path, recognizer=PositionalRecognizer(),  # type: ignore[arg-type]
                      options=PipelineOptions(pre_roll_ms=0, post_roll_ms=300, pass_interval_ms=500,
                                              early_decode_ms=0, live=True))
    try:
        h.start()
        h.speak(3.0)
        partial = h.log.wait_for("partial")
        assert partial["text"]
        h.speak(1.0)
        typed_before_stop = list(h.injector.texts)
        h.pause(0.5)
        h.controller.stop()
        h.log.wait_for("injected")
        assert typed_before_stop, "nothing was typed while speaking"
        window = "".join(h.injector.texts)
        assert window.startswith("".join(typed_before_stop))
        event = h.log.wait_for("transcribed")
        assert window.split() == event["text"].split()
    finally:
        close_harness(h)


def test_a_doubted_last_decode_with_speech_after_the_last_pass_is_decoded_again_from_the_cut() -> None:
    """The speaker went on after the last pass: its words would lose the rest. A second decode, from the
    end of the settled words with all of them as prompt, settles it."""
    recognizer = DoubtingRecognizer()
    inc = decoder(recognizer)
    d = Dictation(1)
    for second in range(1, 7):
        inc.run_pass(d, snap(float(second)))
    assert d.agreement is not None
    cut = d.agreement.cut_s
    recognizer.doubt, recognizer.doubts = True, 2
    recognizer.calls.clear()
    text = inc.final_text(d, segment(0.0, 6.5))
    assert text == " ".join(f"w{k}" for k in range(16))  # w15 ends at 6.4 s, after the last pass
    assert [call[0] for call in recognizer.calls] == ["words", "words", "words"]
    assert recognizer.calls[-1][1] == pytest.approx(cut, abs=1e-3)


class StoppingRecognizer(PositionalRecognizer):
    """Told where the settled words end, writes them again and stops there (what tiny.en did on a clip with
    long pauses: it took the settled words for all there was)."""

    def transcribe_words(self, audio: np.ndarray, *, prompt: str = "", language: str | None = None,
                         fallback: bool = True, timed: bool = True, speech: bool = False,
                         known_s: float = 0.0, abandon: object = None) -> TimedTranscript:
        heard = super().transcribe_words(audio, prompt=prompt, language=language, fallback=fallback,
                                         timed=timed, speech=speech)
        self.known[-1] = known_s
        if not known_s:
            return heard
        start, _end = self._span(audio)
        return TimedTranscript(words=tuple(self._words(start, start + known_s)), audio_s=heard.audio_s)


def test_a_last_decode_that_writes_nothing_after_the_settled_words_is_decoded_again() -> None:
    recognizer = StoppingRecognizer()
    inc = decoder(recognizer)
    d = Dictation(1)
    for second in range(1, 7):
        inc.run_pass(d, snap(float(second)))
    recognizer.calls.clear()
    assert inc.final_text(d, segment(0.0, 8.0)) == " ".join(f"w{k}" for k in range(20))
    assert [call[0] for call in recognizer.calls] == ["words", "words"]
    assert recognizer.known[-2] > 0 and recognizer.known[-1] == 0


def test_a_word_whisper_marks_as_cut_off_or_without_time_counts_as_cut_off() -> None:
    assert cut_off(Word(" be-", 3.1, 3.48)) and cut_off(Word(" chiefly...", 2.2, 2.44))
    assert cut_off(Word(" buy", 3.48, 3.48))
    assert not cut_off(Word(" buy.", 3.1, 3.5)) and not cut_off(Word(" ill-disposed", 4.3, 4.9))
