"""Words -> cues -> SRT / WebVTT, read back with independent parsers (the `srt` and `webvtt-py` packages)."""

from __future__ import annotations

import io
import itertools

import pytest
import srt
import webvtt

from onevox.asr.base import Word
from onevox.text.subtitles import Cue, CueOptions, group_words, ordered, srt_time, to_srt, to_vtt, vtt_time


def words(*items: tuple[str, float, float]) -> list[Word]:
    return [Word(text, start, end) for text, start, end in items]


def test_a_pause_a_sentence_end_and_the_length_limits_start_new_cues():
    spoken = words((" Go", 0.3, 0.5), (" forward.", 0.5, 0.9), (" Then", 2.5, 2.7), (" stop", 2.7, 3.0))
    assert group_words(spoken, CueOptions(sentence_min_chars=5)) == [
        Cue(0.3, 0.9, "Go forward."), Cue(2.5, 3.0, "Then stop")]
    # a short sentence stays with what follows when no pause separates them
    close = words((" Yes.", 0.0, 0.4), (" I", 0.5, 0.6), (" will", 0.6, 0.9))
    assert [c.text for c in group_words(close)] == ["Yes. I will"]
    long_run = [Word(" word", i * 0.5, i * 0.5 + 0.4) for i in range(40)]
    cues = group_words(long_run, CueOptions(max_s=5.0, max_chars=1000))
    assert all(c.end_s - c.start_s <= 5.0 for c in cues) and len(cues) == 4
    cues = group_words(long_run, CueOptions(max_s=100.0, max_chars=30))
    assert all(len(c.text) <= 30 for c in cues)
    assert " ".join(c.text for c in cues) == " ".join(["word"] * 40)


def test_ordered_cues_never_overlap_and_last_long_enough_to_read():
    out = ordered([Cue(1.0, 1.0, "a"), Cue(1.1, 2.0, "b"), Cue(1.9, 2.5, "c"), Cue(5.0, 5.1, "d")], min_s=0.3)
    assert [(c.start_s, c.end_s) for c in out] == [(1.0, 1.1), (1.1, 2.0), (2.0, 2.5), (5.0, 5.3)]
    for before, after in itertools.pairwise(out):
        assert before.end_s <= after.start_s


def test_timestamps():
    assert srt_time(0) == "00:00:00,000"
    assert srt_time(3661.2345) == "01:01:01,234" or srt_time(3661.2345) == "01:01:01,235"
    assert vtt_time(59.9999) == "00:01:00.000"
    assert srt_time(-0.01) == "00:00:00,000"


CUES = [Cue(0.12, 2.5, "Hello there."), Cue(2.5, 4.0, "A cue --> with an arrow\n\nand a blank line"),
        Cue(3700.0, 3701.5, "An hour in: «ünïcode»")]


def test_srt_parses_with_the_srt_package():
    parsed = list(srt.parse(to_srt(CUES)))
    assert [p.index for p in parsed] == [1, 2, 3]
    assert [p.start.total_seconds() for p in parsed] == [0.12, 2.5, 3700.0]
    assert [p.end.total_seconds() for p in parsed] == [2.5, 4.0, 3701.5]
    assert parsed[0].content == "Hello there."
    assert "\n" not in parsed[1].content and "-->" not in parsed[1].content
    assert parsed[2].content == "An hour in: «ünïcode»"


def test_vtt_parses_with_webvtt_py():
    parsed = webvtt.from_buffer(io.StringIO(to_vtt(CUES)))
    assert [(c.start_in_seconds, c.end_in_seconds) for c in parsed] == [(0, 2), (2, 4), (3700, 3701)]
    assert [c.start for c in parsed] == ["00:00:00.120", "00:00:02.500", "01:01:40.000"]
    assert parsed[0].text == "Hello there."
    assert parsed[2].text == "An hour in: «ünïcode»"


@pytest.mark.parametrize("render", [to_srt, to_vtt])
def test_no_cues_is_still_a_valid_file(render):
    text = render([])
    if render is to_srt:
        assert list(srt.parse(text)) == []
    else:
        assert len(webvtt.from_buffer(io.StringIO(text))) == 0
