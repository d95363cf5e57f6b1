"""Whisper base (multilingual) through onevox, against plain faster-whisper with its defaults on the same
model, measured in the same run, on the non-English clips and on the English ones.

- error rate (words; characters for Chinese) no worse than faster-whisper's, per corpus (one error allowed
  on the ten non-English clips; whether the strict bar holds is printed);
- the sized window within `GAP_TO_FULL_WINDOW` of the full 30 s window;
- the language: right on every clip when the user lists it among two or more languages (as the first of
  several, and as the second of two, so the fallback to the first listed language cannot make it right),
  and wrong on at most one clip in plain auto mode.
A per-clip table is printed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from onevox.audio.files import load_audio
from onevox.config import Config
from onevox.transcribe import FileTranscriber
from tests.support.multilingual import MULTI_DIR, base_model_path, multi_manifest, unit_errors
from tests.support.wer import WordErrors, clip_errors, corpus_wer

pytestmark = pytest.mark.model

OTHER = {"en": "de"}  # the second language listed with a clip's own (any other language: English)


@dataclass(frozen=True)
class Run:
    text: str
    language: str
    ms: float


def base_config(model: Path, **changes: object) -> Config:
    return Config().with_changes("model", name=str(model), language="auto", **changes)


def onevox_runs(config: Config, clips: list[dict], folder: Path) -> dict[str, Run]:
    transcriber = FileTranscriber(config)
    runs = {}
    for clip in clips:
        result = transcriber.transcribe_file(folder / clip["file"])
        runs[clip["id"]] = Run(result.text, result.language, result.latency_ms)
    return runs


def faster_whisper_runs(model: Path, clips: list[dict], folder: Path) -> dict[str, Run]:
    from faster_whisper import WhisperModel

    whisper = WhisperModel(str(model))  # its defaults: beam 5, language detected, VAD off, ...
    runs = {}
    for clip in clips:
        audio = load_audio(folder / clip["file"])
        start = time.perf_counter()
        segments, info = whisper.transcribe(audio)
        text = "".join(segment.text for segment in segments).strip()
        runs[clip["id"]] = Run(text, info.language, (time.perf_counter() - start) * 1000)
    return runs


def errors_of(clip: dict, text: str) -> WordErrors:
    if "language" in clip:
        return unit_errors(clip["text"], text, clip["language"])
    return clip_errors(clip, text)


def report(title: str, clips: list[dict],
           runs: dict[str, dict[str, Run]]) -> dict[str, dict[str, WordErrors]]:
    errors = {name: {c["id"]: errors_of(c, run[c["id"]].text) for c in clips} for name, run in runs.items()}
    head = f"{title:24} " + " ".join(f"{name[:14]:>14} {'ms':>5}" for name in runs)
    print("\n" + head + "\n" + "-" * len(head))
    for clip in clips:
        cells = " ".join(f"{runs[n][clip['id']].language:>3}{errors[n][clip['id']].errors:>4}/"
                         f"{errors[n][clip['id']].ref_words:<5} {runs[n][clip['id']].ms:>5.0f}" for n in runs)
        print(f"{clip['id']:24} {cells}")
    return errors


def rates(clips: list[dict], errors: dict[str, dict[str, WordErrors]]) -> dict[str, float]:
    return {name: corpus_wer([errs[c["id"]] for c in clips]) for name, errs in errors.items()}


# How base gets faster-whisper's accuracy on a sized window: beam 5 (`beam_size = 0`, auto, for multilingual
# models), and 10 s of encoded silence after the speech before the silent window takes over
# (`whisper.MULTILINGUAL_OPTIONS`). Greedy decoding lost whole sentences (the Spanish clip), and a short
# margin read as "no speech" or looped. Measured: the same error count as faster-whisper, or one fewer; the
# test allows one error more, as the comparison is made on ten clips.
LISTED_SLACK = 1  # errors over faster-whisper's allowed with the language listed (the bar: 0)
AS_FASTER_WHISPER: dict[str, object] = {"window": "full", "beam_size": 5, "compute_type": "float32"}
GAP_TO_FULL_WINDOW = 0.06  # WER of the sized window over the full window, auto mode


@dataclass(frozen=True)
class Measured:
    clips: list[dict]
    runs: dict[str, dict[str, Run]]
    wer: dict[str, float]  # over the space-delimited clips
    cer: dict[str, float]  # over the Chinese clip(s)
    one_error: tuple[float, float]  # one error as a rate, on each


@pytest.fixture(scope="module")
def base() -> Path:
    return base_model_path()


@pytest.fixture(scope="module")
def measured(base) -> Measured:
    clips = multi_manifest()
    languages = sorted({c["language"] for c in clips})
    runs = {
        "auto": onevox_runs(base_config(base), clips, MULTI_DIR),
        "full": onevox_runs(base_config(base, window="full"), clips, MULTI_DIR),
        "listed": onevox_runs(base_config(base, languages=["en", *languages]), clips, MULTI_DIR),
        "faster-whisper": faster_whisper_runs(base, clips, MULTI_DIR),
        "as-faster-whisper": onevox_runs(base_config(base, **AS_FASTER_WHISPER), clips, MULTI_DIR),
    }
    second: dict[str, Run] = {}
    for language in languages:  # the clip's language listed second, after one it is not
        own = [c for c in clips if c["language"] == language]
        second.update(onevox_runs(base_config(base, languages=[OTHER.get(language, "en"), language]), own,
                                  MULTI_DIR))
    runs["second-of-two"] = second
    errors = report("clip (lang err/units)", clips, runs)
    words = [c for c in clips if c["language"] != "zh"]
    chars = [c for c in clips if c["language"] == "zh"]
    wer, cer = rates(words, errors), rates(chars, errors)
    print("WER (de es fr it pt): " + ", ".join(f"{n} {100 * r:.1f}%" for n, r in wer.items()))
    print("CER (zh): " + ", ".join(f"{n} {100 * r:.1f}%" for n, r in cer.items()))
    units = [sum(errors["auto"][c["id"]].ref_words for c in subset) for subset in (words, chars)]
    return Measured(clips, runs, wer, cer, (1 / units[0], 1 / units[1]))


@pytest.mark.parametrize("mode", ["listed", "second-of-two"])
def test_language_is_right_when_listed(measured, mode):
    wrong = [c["id"] for c in measured.clips if measured.runs[mode][c["id"]].language != c["language"]]
    assert not wrong, f"{mode}: wrong language on {wrong}"


def test_language_in_auto_is_wrong_on_at_most_one_clip(measured):
    wrong = [c["id"] for c in measured.clips if measured.runs["auto"][c["id"]].language != c["language"]]
    assert len(wrong) <= 1, f"auto: wrong language on {wrong}"


def test_error_rate_is_no_worse_than_faster_whisper(measured, capsys):
    wer, fw = measured.wer["listed"], measured.wer["faster-whisper"]
    with capsys.disabled():
        print(f"\nlanguage listed: WER {100 * wer:.1f}% against faster-whisper's {100 * fw:.1f}%: "
              f"{'no worse' if wer <= fw + 1e-9 else 'worse'}")
    assert wer <= fw + LISTED_SLACK * measured.one_error[0] + 1e-9
    assert measured.cer["listed"] <= measured.cer["faster-whisper"] + measured.one_error[1] + 1e-9


def test_decoding_as_faster_whisper_does_is_no_worse_than_faster_whisper(measured):
    assert measured.wer["as-faster-whisper"] <= measured.wer["faster-whisper"] + 1e-9
    assert measured.cer["as-faster-whisper"] <= measured.cer["faster-whisper"] + 1e-9


def test_sized_window_stays_within_the_measured_gap_to_the_full_window(measured):
    assert measured.wer["auto"] <= measured.wer["full"] + GAP_TO_FULL_WINDOW
    assert measured.cer["auto"] <= measured.cer["full"] + measured.one_error[1] + 1e-9


def test_english_on_base_is_as_accurate_as_faster_whisper(base, speech_manifest, speech_dir, capsys):
    clips = [c for c in speech_manifest if c["text"]]
    runs = {
        "auto": onevox_runs(base_config(base), clips, speech_dir),
        "faster-whisper": faster_whisper_runs(base, clips, speech_dir),
    }
    with capsys.disabled():
        errors = report("English clip", clips, runs)
        wer = rates(clips, errors)
        print("WER (English, base): " + ", ".join(f"{n} {100 * r:.2f}%" for n, r in wer.items()))
    assert all(runs["auto"][c["id"]].language == "en" for c in clips)
    assert wer["auto"] <= wer["faster-whisper"]


def test_language_replacements_apply_only_to_dictations_in_that_language(base, tmp_path):
    """[post_processing.languages.de] through a real config file and the real decode: the German clip gets
    them, the French one (same file, same run) does not."""
    from onevox.config import load_config

    file = tmp_path / "config.toml"
    file.write_text(f'[model]\nname = "{base}"\nlanguage = "auto"\nlanguages = ["de", "fr"]\n'
                    '[post_processing]\nreplacements = { "consulat" = "CONSULAT" }\n'
                    '[post_processing.languages.de]\n'
                    'replacements = { "Raum" = "Zimmer", "consulat" = "x" }\n')
    transcriber = FileTranscriber(load_config(file))
    german = transcriber.transcribe_file(MULTI_DIR / "de-pvleopard.wav")
    french = transcriber.transcribe_file(MULTI_DIR / "fr-pvleopard.wav")

    assert german.language == "de" and "Zimmer" in german.text and "Raum" not in german.text
    assert french.language == "fr" and "CONSULAT" in french.text and "Zimmer" not in french.text
