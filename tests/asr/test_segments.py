"""transcribe_segments: several segments in order, each primed with the text before it."""

from __future__ import annotations

import numpy as np

from onevox.asr.segments import transcribe_segments


def test_each_segment_gets_the_text_before_it(recorder):
    segments = [np.zeros(1600, np.float32), np.zeros(3200, np.float32), np.zeros(800, np.float32)]
    out = transcribe_segments(recorder, segments, prompt="Dear Ann,")
    assert [t.text for t in out] == ["segment 1.", "segment 2.", "segment 3."]
    assert recorder.calls == [(1600, "Dear Ann,"), (3200, "Dear Ann, segment 1."),
                              (800, "Dear Ann, segment 1. segment 2.")]


def test_no_segments_no_calls(recorder):
    assert transcribe_segments(recorder, []) == []
    assert recorder.calls == []


def test_empty_text_adds_nothing_to_the_prompt(recorder):
    class Silent(type(recorder)):
        def transcribe(self, audio, *, prompt="", language=None):
            out = super().transcribe(audio, prompt=prompt, language=language)
            return out.__class__(text="", audio_s=out.audio_s, model=out.model)

    silent = Silent()
    transcribe_segments(silent, [np.zeros(10, np.float32)] * 2)
    assert [prompt for _, prompt in silent.calls] == ["", ""]
