"""Accuracy of incremental decoding and live mode (issue 9), three ways in one run, scored with the suite's
WER (tests/support/wer.py: Whisper's English normaliser, jiwer):

- whole segment: the recogniser on the whole audio at once (`recognizer.transcribe`), no daemon;
- normal: said to the in-process daemon with the default config, released on the last word;
- live: the same with `[injection] live = true` (started and stopped as a script or toggle key does, so
  words are typed while speaking); the rig collects everything typed from the start to the dictation's end.

The corpus (every speech clip of tests/data/speech, each its own dictation): issue 9 asks for normal and
live at most 0.5 WER points above the whole-segment decode; the corpus is replayed in both modes (below)
and held to that. The ~60 s of gap-free speech (onevox.bench.continuous) is said in real time in both modes
(normal mode's is the dictation benchmarks/test_continuous.py times, when that ran first): the hard case,
where one or two words either way are within what two decodes of the same audio differ by, so it is held
to 2 points - what a lost sentence or a doubled phrase would exceed.
Also: non-speech (silence, white noise, tones) types nothing in either mode.

Said in real time, where the incremental passes fall depends on how long each decode takes, so the
machine's load moves the result by a word or two. The replay (tests/support/replay.py) runs the same
pipeline in virtual time, every decode taking a fixed time: one number per policy and timing. The corpus is
replayed at several timings (where the passes fall against the words: the silence before the speech; how
long a decode takes: a 1.3 s decode is a loaded machine that drops passes), and each must stay within the
issue's bound.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from onevox.audio.files import load_audio
from onevox.bench import continuous
from onevox.bench import workloads as wl
from onevox.config import Config
from tests.support.replay import replay
from tests.support.speech import speech_dir, speech_file, speech_manifest
from tests.support.wer import WordErrors, word_errors

WER_SPEECH_S = 60.0
TOLERANCE = 0.005  # the bound: 0.5 WER points above the whole-segment decode, on the corpus
GAP_FREE_TOLERANCE = 0.02  # the 60 s of gap-free speech: no words lost or doubled
# the replay's timings: (silence before the speech, virtual time every decode takes), in seconds
# (each lead puts the passes at other points of the words; each pairing was checked with both decode times,
# and these three keep one of each)
REPLAY_TIMINGS = [(0.3, 0.3), (0.9, 0.3), (0.6, 1.3)]


def live_config(config: Config) -> Config:
    """Live mode, controlled the way the rig does it (start and stop commands, no held key)."""
    return dataclasses.replace(config, injection=dataclasses.replace(config.injection, live=True),
                               hotkey=dataclasses.replace(config.hotkey, backend="none"))


def errors(said: continuous.Continuous, text: str) -> WordErrors:
    """Against the clips' references, or their spoken forms ("In eighteen thirteen") where that is closer."""
    return min(word_errors(said.reference, text), word_errors(said.alt_reference, text),
               key=lambda e: (e.wer, e.errors))


def dictate(rig: wl.DictationRig, said: continuous.Continuous) -> str:
    rig.speak(said.audio, wl.release_hold_s(said))
    return rig.release()


@pytest.fixture(scope="module")
def said() -> continuous.Continuous:
    return continuous.build(speech_dir(), WER_SPEECH_S)


@dataclasses.dataclass(frozen=True)
class Whole:
    errors: WordErrors  # the whole audio in one call: the bound's baseline
    per_clip: WordErrors  # each clip decoded alone, for the record

    def describe(self, said: continuous.Continuous) -> str:
        return (f"{said.duration_s:.1f} s, {len(said.clips)} clips, {self.errors.ref_words} words; "
                f"whole-segment WER {self.errors.wer:.2%} (each clip alone {self.per_clip.wer:.2%})")


@pytest.fixture(scope="module")
def whole(recognizer, said) -> Whole:
    per_clip = " ".join(recognizer.transcribe(c.audio).text for c in said.clips)
    return Whole(errors(said, recognizer.transcribe(said.audio).text), errors(said, per_clip))


@pytest.fixture(scope="module")
def live_rig(config: Config, recognizer) -> Iterator[wl.DictationRig]:
    rig = wl.DictationRig(live_config(config), recognizer)
    yield rig
    rig.close()


def _check(mode: str, text: str, cores: float, said: continuous.Continuous, whole: Whole, capsys) -> None:
    got = errors(said, text)
    with capsys.disabled():
        print(f"\n{whole.describe(said)}\n{mode} mode WER {got.wer:.2%} ({got.errors} errors), "
              f"{cores:.0%} of a core while speaking")
    assert got.wer <= whole.errors.wer + GAP_FREE_TOLERANCE, f"{mode} mode typed {text!r}"


def test_normal_mode_keeps_every_word_of_a_minute_without_a_pause(rig, said, whole, said_to_rig,
                                                                   capsys) -> None:
    # the same dictation as benchmarks/test_continuous.py's 60 s round, when that ran first
    if WER_SPEECH_S not in said_to_rig:
        said_to_rig[WER_SPEECH_S] = (dictate(rig, said), rig.speaking[-1].cores)
    _check("normal", *said_to_rig[WER_SPEECH_S], said, whole, capsys)


def test_live_mode_keeps_every_word_of_a_minute_without_a_pause(live_rig, said, whole, capsys) -> None:
    _check("live", dictate(live_rig, said), live_rig.speaking[-1].cores, said, whole, capsys)


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, str, object]]:
    """(id, reference, audio) of every speech clip."""
    return [(c["id"], c["text"], load_audio(speech_file(c["file"]))) for c in speech_manifest() if c["text"]]


@pytest.fixture(scope="module")
def corpus_whole(recognizer, corpus) -> WordErrors:
    return _corpus_errors([(ref, recognizer.transcribe(audio).text) for _id, ref, audio in corpus])


def _corpus_errors(pairs: list[tuple[str, str]]) -> WordErrors:
    scored = [word_errors(ref, text) for ref, text in pairs]
    return WordErrors(sum(e.errors for e in scored), sum(e.ref_words for e in scored))


@pytest.mark.parametrize("mode", ["normal", "live"])
def test_non_speech_types_nothing(request, mode: str) -> None:
    """The live case needs [injection] live (issue 9's decoder)."""
    rig = request.getfixturevalue("rig" if mode == "normal" else "live_rig")
    for name in [c["file"] for c in speech_manifest() if not c["text"]]:
        rig.speak(load_audio(speech_file(name)))
        assert rig.release() == "", f"{mode} mode typed something for {name}"


@pytest.mark.parametrize("mode", ["normal", "live"])
def test_corpus_wer_replayed_at_fixed_pass_timings(mode: str, config: Config, recognizer, corpus,
                                                    corpus_whole, capsys) -> None:
    """The corpus through the pipeline in virtual time at each of REPLAY_TIMINGS: deterministic, whatever
    the machine's load; each timing within issue 9's bound."""
    results = []
    for lead_s, decode_s in REPLAY_TIMINGS:
        pairs = [(ref, replay(config, recognizer, audio, live=mode == "live", decode_s=decode_s,
                              lead_s=lead_s).text) for _id, ref, audio in corpus]
        results.append((lead_s, decode_s, _corpus_errors(pairs), pairs))
    with capsys.disabled():
        print(f"\nreplayed corpus, {mode} mode (whole-segment {corpus_whole.errors} errors, "
              f"{corpus_whole.wer:.2%}): " + ", ".join(
                  f"lead {lead:g} s / decode {decode:g} s: {got.errors} ({got.wer - corpus_whole.wer:+.2%})"
                  for lead, decode, got, _pairs in results))
    for lead, decode, got, pairs in results:
        wrong = [text for ref, text in pairs if word_errors(ref, text).errors]
        assert got.wer <= corpus_whole.wer + TOLERANCE, f"lead {lead} s, decode {decode} s: {wrong}"
