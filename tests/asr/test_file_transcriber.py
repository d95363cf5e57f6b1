"""FileTranscriber: file -> VAD -> recognizer -> post-processing. The recognizer here is a recording test
double; the real model runs the same path in test_accuracy.py and the CLI tests."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from onevox.config import Config
from onevox.errors import AudioError
from onevox.transcribe import FileTranscriber, merge_spans
from onevox.vad import SpeechSegment


def seg(start: int, end: int) -> SpeechSegment:
    return SpeechSegment(start, end, np.zeros(end - start, np.float32))


def test_merge_joins_close_segments_within_the_span_limit():
    segments = [seg(0, 10), seg(12, 20), seg(40, 50), seg(51, 95)]
    assert merge_spans(segments, max_span=60, max_gap=5) == [(0, 20), (40, 95)]
    assert merge_spans(segments, max_span=15, max_gap=5) == [(0, 10), (12, 20), (40, 50), (51, 95)]
    assert merge_spans(segments, max_span=100, max_gap=25) == [(0, 95)]
    assert merge_spans([], max_span=10, max_gap=1) == []


def test_non_speech_gives_nothing_and_never_calls_the_model(recorder, clip):
    transcriber = FileTranscriber(Config(), recognizer=recorder)
    for clip_id in ("nonspeech-silence-2s", "nonspeech-whitenoise-2s", "nonspeech-tones-2s"):
        assert transcriber.transcribe_audio(clip(clip_id)) == ("", 0.0)
    assert recorder.calls == []


def test_speech_file_is_decoded_once_with_its_pauses(recorder, speech_dir):
    transcriber = FileTranscriber(Config(), recognizer=recorder)
    result = transcriber.transcribe_file(speech_dir / "jfk-inaugural.wav")
    assert len(recorder.calls) == 1  # four VAD segments, pauses under 2 s: one span
    assert result.text == "Segment 1."  # post-processed: capitalised, no trailing space
    assert result.audio_s == pytest.approx(11.0)
    assert result.model == "fake"
    assert len(result.segments) == 1
    span = result.segments[0]
    assert 0.0 <= span.start_s < 0.5 and 10.0 < span.end_s <= 11.0
    assert recorder.calls[0][0] == pytest.approx((span.end_s - span.start_s) * 16000, abs=1)


def test_long_files_are_cut_and_each_span_gets_the_text_before_it(recorder, speech_dir):
    config = Config().with_changes("vad", max_segment_s=3.0)
    transcriber = FileTranscriber(config, recognizer=recorder)
    result = transcriber.transcribe_file(speech_dir / "jfk-inaugural.wav")
    assert len(recorder.calls) >= 3
    assert all(samples <= 3 * 16000 for samples, _ in recorder.calls)
    assert recorder.calls[0][1] == ""
    assert recorder.calls[1][1] == "segment 1."
    assert recorder.calls[2][1] == "segment 1. segment 2."
    assert result.text.startswith("Segment 1. Segment 2.")


def test_hallucination_filter_and_replacements_apply(speech_dir):
    from onevox.asr.base import Transcript

    class Says:
        model_name = "fake"

        def __init__(self, text):
            self.text = text

        def transcribe(self, audio, *, prompt="", language=None):
            return Transcript(text=self.text, audio_s=audio.size / 16000, model="fake")

        def warm_up(self):
            pass

    config = Config().with_changes("post_processing", replacements={"one vox": "onevox"})
    goforward = speech_dir / "ps-goforward.wav"
    def text_for(model_says: str) -> str:
        return FileTranscriber(config, recognizer=Says(model_says)).transcribe_file(goforward).text

    assert text_for("hello one vox") == "Hello onevox"
    assert text_for("Thanks for watching!") == ""


def test_json_shape(recorder, speech_dir):
    result = FileTranscriber(Config(), recognizer=recorder).transcribe_file(speech_dir / "ps-goforward.wav")
    data = json.loads(json.dumps(result.to_json()))
    assert set(data) == {"file", "text", "audio_s", "latency_ms", "segments", "model", "language",
                         "language_prob", "cues"}
    assert data["cues"] == []  # only timed transcriptions have cues
    assert data["segments"][0]["text"] == "segment 1."
    assert set(data["segments"][0]) == {"start", "end", "text", "fallback"}


def test_vad_off_still_skips_nothing_but_decodes(recorder, tmp_path):
    config = Config().with_changes("vad", backend="off")
    sf.write(tmp_path / "a.wav", np.zeros(16000, np.float32), 16000)
    result = FileTranscriber(config, recognizer=recorder).transcribe_file(tmp_path / "a.wav")
    assert len(recorder.calls) == 1 and result.text == "Segment 1."


def test_unreadable_file_raises_audio_error(recorder, tmp_path):
    with pytest.raises(AudioError, match=r"missing\.wav"):
        FileTranscriber(Config(), recognizer=recorder).transcribe_file(tmp_path / "missing.wav")


def test_progress_is_told_the_share_done_and_ends_at_one(recorder, speech_dir, clip):
    from onevox.transcribe import FileOptions

    shares: list[float] = []
    transcriber = FileTranscriber(Config().with_changes("vad", max_segment_s=3.0), recognizer=recorder)
    transcriber.transcribe_file(speech_dir / "jfk-inaugural.wav", FileOptions(progress=shares.append))
    assert len(shares) == len(recorder.calls) > 1
    assert shares == sorted(shares) and 0 < shares[0] < 0.5 and shares[-1] == 1.0
    silent: list[float] = []
    options = FileOptions(progress=silent.append)
    transcriber.transcribe_loaded("silence", clip("nonspeech-silence-2s"), options)
    assert silent == [1.0]


def test_timed_without_word_times_gives_one_cue_per_span(recorder, speech_dir):
    from onevox.transcribe import FileOptions

    result = FileTranscriber(Config(), recognizer=recorder).transcribe_file(
        speech_dir / "jfk-inaugural.wav", FileOptions(timed=True))
    assert [(c.start_s, c.text) for c in result.cues] == [(result.segments[0].start_s, "Segment 1.")]
    assert result.cues[0].end_s == result.segments[0].end_s
