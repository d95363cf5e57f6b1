"""Gap-free continuous speech for the long-dictation benchmarks (onevox.bench.continuous), real clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from onevox.audio import SAMPLE_RATE
from onevox.audio.files import load_audio
from onevox.bench import continuous
from onevox.config import VadConfig

LENGTHS_S = continuous.LENGTHS_S


@pytest.fixture(scope="module")
def built(speech_dir: Path) -> dict[float, continuous.Continuous]:
    return {length: continuous.build(speech_dir, length) for length in LENGTHS_S}


@pytest.mark.parametrize("length", LENGTHS_S)
def test_no_silence_longer_than_100_ms_remains(built, length: float) -> None:
    speech = built[length]
    assert continuous.longest_silence_s(speech.audio, speech.quiet_below) <= continuous.MAX_PAUSE_S


@pytest.mark.parametrize("length", LENGTHS_S)
def test_the_vad_hears_no_pause_the_daemon_would_decode_in(built, length: float) -> None:
    """Silero may call a breath or a soft onset non-speech (kept: cutting it could cut words), but never
    for as long as the daemon waits before decoding during a pause."""
    early_decode_s = VadConfig().early_decode_ms / 1000
    assert continuous.longest_pause_s(built[length].audio) < early_decode_s


@pytest.mark.parametrize("length", LENGTHS_S)
def test_audio_starts_and_ends_with_sound(built, length: float) -> None:
    """The release moment is defined from the audio's end: at most EDGE_PAD_S of quiet on either side."""
    speech = built[length]
    quiet = continuous._quiet_windows(speech.audio, speech.quiet_below)
    window_s = 160 / SAMPLE_RATE
    lead, trail = int(np.argmax(~quiet)), int(np.argmax(~quiet[::-1]))
    assert lead * window_s <= continuous.EDGE_PAD_S + window_s
    assert trail * window_s <= speech.trailing_s + 2 * window_s


def test_the_clips_had_long_pauses_to_remove(speech_dir: Path) -> None:
    """The check above is not vacuous: the source clips hold pauses of several hundred ms."""
    jfk = load_audio(speech_dir / "jfk-inaugural.wav")
    assert continuous.longest_pause_s(jfk) > 0.5
    assert continuous.longest_silence_s(jfk, np.full(jfk.size, continuous.quiet_db(jfk))) > 0.5


def test_a_soft_first_word_is_kept(speech_dir: Path) -> None:
    """librivox-sns01-0870 starts with a soft "And" at ~0.22 s that Silero only calls speech from 0.29 s:
    trimming by Silero's frames alone cut it off."""
    original = load_audio(speech_dir / "librivox-sns01-0870.wav")
    clip = next(c for c in continuous.load_clips(speech_dir) if c.id == "librivox-sns01-0870")
    windows = np.lib.stride_tricks.sliding_window_view(original, 64)
    start = int(np.flatnonzero((windows == clip.audio[:64]).all(axis=1))[0])  # the trim is a plain slice
    assert start / SAMPLE_RATE <= 0.21


@pytest.mark.parametrize("length", LENGTHS_S)
def test_lengths_come_close_to_the_request(built, length: float) -> None:
    assert abs(built[length].duration_s - length) < 0.5


@pytest.mark.parametrize("length", LENGTHS_S)
def test_reference_is_the_spoken_clips_texts_joined(built, speech_manifest, length: float) -> None:
    speech = built[length]
    texts = {c["id"]: c["text"] for c in speech_manifest}
    ids = [c.id for c in speech.clips]
    assert len(ids) == len(set(ids))
    assert all(texts[i] for i in ids), "a non-speech clip was joined"
    assert speech.reference == " ".join(texts[i] for i in ids)
    order = list(texts)
    assert ids == sorted(ids, key=order.index), "clips are spoken in manifest order"
    # clips are only trimmed and their pauses shortened: their joined length bounds the audio's
    assert speech.audio.size <= sum(c.audio.size for c in speech.clips)


def test_alt_reference_uses_the_spoken_form(speech_dir: Path) -> None:
    clips = {c.id: c for c in continuous.load_clips(speech_dir)}
    pair = (clips["ps-goforward"], clips["ljspeech-lj002-0020"])
    both = continuous.Continuous(np.zeros(1, np.float32), pair, np.zeros(1, np.float32))
    assert both.reference.endswith("In 1813")
    assert both.alt_reference.endswith("In eighteen thirteen")


def test_non_speech_clips_are_left_out(speech_dir: Path, speech_manifest) -> None:
    ids = {c.id for c in continuous.load_clips(speech_dir)}
    assert ids == {c["id"] for c in speech_manifest if c["text"]}


def test_building_is_deterministic(speech_dir: Path, built) -> None:
    continuous._load_clips.cache_clear()  # from the files again, through a VAD that has seen other audio
    again = continuous.build(speech_dir, 15.0)
    assert [c.id for c in again.clips] == [c.id for c in built[15.0].clips]
    assert np.array_equal(again.audio, built[15.0].audio)


def test_join_crossfades_without_a_step() -> None:
    a, b = np.full(1000, 0.2, np.float32), np.full(1000, -0.2, np.float32)
    out = continuous.join([a, b])
    fade = round(0.005 * SAMPLE_RATE)
    assert out.size == 2000 - fade
    assert np.max(np.abs(np.diff(out))) <= 0.4 / (fade - 1) + 1e-6


def test_missing_clips_say_where(tmp_path: Path) -> None:
    with pytest.raises(continuous.SpeechClipsMissing, match=r"manifest\.jsonl"):
        continuous.build(tmp_path, 5.0)
