"""WhisperEngine on the real bundled tiny.en: short windows, the fallback guard, silence, long audio."""

from __future__ import annotations

import numpy as np
import pytest

from onevox.asr.whisper import EngineOptions, WhisperEngine
from onevox.asr.window import WindowOptions
from onevox.config import ModelConfig
from onevox.errors import AudioError, ModelError
from tests.support.wer import normalize

pytestmark = pytest.mark.model


def test_short_clip_in_a_short_window(engine, clip):
    out = engine.transcribe(clip("ps-goforward"))
    assert normalize(out.text) == "go forward 10 meters"
    assert not out.fallback
    assert out.model == "tiny.en"
    assert out.audio_s == pytest.approx(2.786, abs=0.01)
    assert {"features", "encode", "decode", "total"} <= set(out.timings_ms)
    assert out.no_speech_prob < 0.45


def test_the_1_5_s_clip_that_loops_in_a_bare_short_window(engine, clip):
    out = engine.transcribe(clip("ljspeech-lj002-0020"))
    assert normalize(out.text) == "in 1813"


def test_full_window_gives_the_same_words(model_path, engine, clip):
    full = WhisperEngine(model_path, ModelConfig(window="full"), "tiny.en")
    for clip_id in ("ps-goforward", "arctic-a0024", "ls-61-70968-0000"):
        audio = clip(clip_id)
        assert normalize(full.transcribe(audio).text) == normalize(engine.transcribe(audio).text)
        assert not full.transcribe(audio).fallback


@pytest.mark.parametrize("clip_id", ["nonspeech-silence-2s", "nonspeech-whitenoise-2s", "nonspeech-tones-2s"])
def test_non_speech_gives_nothing(engine, clip, clip_id):
    out = engine.transcribe(clip(clip_id))
    assert out.text == ""
    assert out.no_speech_prob > 0.6


def test_empty_audio_is_not_decoded(engine):
    out = engine.transcribe(np.zeros(0, np.float32))
    assert out.text == "" and out.audio_s == 0.0


def test_a_few_samples_do_not_crash(engine):
    assert engine.transcribe(np.zeros(10, np.float32)).text == ""


def test_bad_arrays_are_refused(engine):
    with pytest.raises(AudioError, match="1-D"):
        engine.transcribe(np.zeros((2, 1600), np.float32))
    with pytest.raises(AudioError, match="float"):
        engine.transcribe(np.zeros(1600, np.int16))


def test_a_runaway_short_decode_falls_back_to_the_full_window(model_path, clip):
    """A budget of 2 tokens cannot hold the sentence: the guard fires and the full window decodes it."""
    tight = EngineOptions(window=WindowOptions(tokens_per_s=0.0, base_tokens=2))
    eng = WhisperEngine(model_path, ModelConfig(), "tiny.en", tight)
    out = eng.transcribe(clip("ps-goforward"))
    assert out.fallback
    assert normalize(out.text) == "go forward 10 meters"


@pytest.mark.parametrize("window", ["auto", "full"])
def test_two_sentences_are_both_transcribed(model_path, clip, window):
    """The model sometimes ends after the first of two sentences; the uncovered rest is decoded again."""
    eng = WhisperEngine(model_path, ModelConfig(window=window), "tiny.en")
    audio = np.concatenate([clip("arctic-a0024"), np.zeros(4800, np.float32), clip("ls-61-70968-0000")])
    words = normalize(eng.transcribe(audio).text).split()
    assert words[:3] == ["it", "was", "my"]
    assert words[-4:] == ["curtain", "on", "the", "left"]


def test_audio_over_30_s_is_decoded_in_pieces(engine, clip):
    parts = [clip("ls-1088-134315-0000"), clip("ls-2412-153948-0000"), clip("ps-cards-005")]
    pause = np.zeros(8000, np.float32)
    long = np.concatenate([parts[0], pause, parts[1], pause, parts[2]])  # 32.2 s
    out = engine.transcribe(long)
    assert out.audio_s > 32
    words = normalize(out.text).split()
    assert words[:4] == ["as", "you", "know", "and"]
    for word in ("admiration", "rendering", "antecedents", "myself", "spades", "hearts"):
        assert word in words


def test_prompt_and_vocabulary_are_accepted(model_path, clip):
    cfg = ModelConfig(initial_prompt="Card game notes.", vocabulary=["spades", "clubs", "hearts"])
    eng = WhisperEngine(model_path, cfg, "tiny.en")
    out = eng.transcribe(clip("ps-cards-005"), prompt="Next hand:")
    assert "spades" in normalize(out.text)


def test_english_only_model_refuses_another_language(model_path):
    with pytest.raises(ModelError, match="English only"):
        WhisperEngine(model_path, ModelConfig(language="de"), "tiny.en")


def test_not_a_model_folder(tmp_path):
    with pytest.raises(ModelError, match=r"no model\.bin"):
        WhisperEngine(tmp_path, ModelConfig(), "x")


def test_broken_model_file(tmp_path, model_path):
    (tmp_path / "model.bin").write_bytes(b"not a model")
    (tmp_path / "tokenizer.json").write_bytes((model_path / "tokenizer.json").read_bytes())
    with pytest.raises(ModelError, match="cannot load the model"):
        WhisperEngine(tmp_path, ModelConfig(), "x")


def test_load_recognizer_resolves_the_bundled_model(isolated_xdg):
    from onevox.asr.whisper import load_recognizer

    eng = load_recognizer(ModelConfig())
    assert eng.model_name == "tiny.en"
    assert not eng.multilingual


def test_reused_decoder_input_is_restored_between_calls(model_path, engine, clip):
    """The short-window buffer is shared by all calls: after a long clip, a short one must see silence
    after its audio again, exactly as a fresh engine does."""
    fresh = WhisperEngine(model_path, ModelConfig(), "tiny.en")
    short = clip("ljspeech-lj002-0020")
    expected = fresh.transcribe(short)
    engine.transcribe(clip("ls-2412-153948-0001"))
    again = engine.transcribe(short)
    assert again.text == expected.text
    assert again.no_speech_prob == pytest.approx(expected.no_speech_prob, abs=1e-6)


def test_short_audio_decoded_without_timestamps_gives_the_same_words(model_path, engine, clip):
    window = WindowOptions(plain_max_s=3.0)
    plain = WhisperEngine(model_path, ModelConfig(), "tiny.en", EngineOptions(window=window))
    for clip_id in ("ps-goforward", "ljspeech-lj002-0020"):
        out = plain.transcribe(clip(clip_id))
        assert normalize(out.text) == normalize(engine.transcribe(clip(clip_id)).text)
        assert not out.fallback
    assert plain.transcribe(clip("nonspeech-silence-2s")).text == ""


def test_auto_threads_one_for_small_models_all_cores_for_large(tmp_path, model_path):
    """tiny and base decode fastest on one thread; a larger model.bin (sparse here) gets every core."""
    import os

    from onevox.asr.model_files import SMALL_MODEL_BYTES, auto_threads

    assert auto_threads(model_path) == 1
    big = tmp_path / "big"
    big.mkdir()
    with open(big / "model.bin", "wb") as f:
        f.truncate(SMALL_MODEL_BYTES + 1)
    assert auto_threads(big) == len(os.sched_getaffinity(0))
    assert auto_threads(tmp_path / "missing") == len(os.sched_getaffinity(0))


def test_a_second_encoder_copy_only_where_the_decoder_leaves_cores_idle(tmp_path, model_path, monkeypatch):
    import os

    from onevox.asr.model_files import SMALL_MODEL_BYTES, encoder_threads

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(4)))
    assert encoder_threads(model_path, ModelConfig()) == 4  # tiny decodes on one thread: the encoder gets 4
    assert encoder_threads(model_path, ModelConfig(threads=1)) == 0  # the user's count: one copy
    assert encoder_threads(model_path, ModelConfig(device="cuda")) == 0
    big = tmp_path / "big"
    big.mkdir()
    with open(big / "model.bin", "wb") as f:
        f.truncate(SMALL_MODEL_BYTES + 1)
    assert encoder_threads(big, ModelConfig()) == 0  # already on every core
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert encoder_threads(model_path, ModelConfig()) == 0


def test_known_words_are_heard_but_not_written_again(engine, clip):
    """`known_s`: the decode starts at that point (the words before it end the prompt) and writes only the
    words after it."""
    audio = clip("ls-2412-153948-0000")
    whole = engine.transcribe_words(audio)
    words = list(whole.words)
    cut = next(i for i, w in enumerate(words) if w.end_s >= 3.0) + 1  # a word boundary about 3 s in
    known = "".join(w.text for w in words[:cut])
    rest = engine.transcribe_words(audio, prompt=known, known_s=words[cut - 1].end_s, timed=False)
    assert normalize("".join(w.text for w in rest.words)) == normalize("".join(w.text for w in words[cut:]))


def test_a_decode_given_up_returns_without_words_and_the_next_is_whole(engine, clip):
    """`abandon` is asked while the decoder runs; once it says yes the call returns without words, the
    decode it left finishes unread on its replica, and the next call decodes on the other one as if nothing
    had happened (the decoder input buffer they share is rewritten under the abandoned one)."""
    audio = clip("ls-2412-153948-0000")
    expected = engine.transcribe_words(audio).text
    asked: list[bool] = []

    def abandon() -> bool:
        asked.append(True)
        return len(asked) > 1  # not after the encode: while the decoder runs

    given_up = engine.transcribe_words(audio, abandon=abandon)
    assert given_up.doubt == "abandoned" and not given_up.words and len(asked) == 2
    assert engine.transcribe_words(audio).text == expected
    assert engine.transcribe_words(audio, abandon=lambda: False).text == expected


def test_serve_workers_share_the_cores_and_keep_small_models_on_one_thread(monkeypatch, isolated_xdg):
    import os

    from onevox.config import Config
    from onevox.serve.server import worker_config

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(8)))
    assert worker_config(Config(), 1).model.threads == 1  # the bundled tiny.en
    assert worker_config(Config().with_changes("model", threads=3), 2).model.threads == 3
    assert worker_config(Config().with_changes("model", name="/no/such/model"), 2).model.threads == 4
