"""The language policy: what `[model] language` and `languages` mean, and how a detection is read."""

from __future__ import annotations

import pytest

from onevox.asr.language import LanguageChoice, LanguageOptions, language_policy, rank_languages
from onevox.errors import ModelError

SURE = [("de", 0.95), ("en", 0.03), ("fr", 0.02)]
UNSURE = [("en", 0.30), ("es", 0.25), ("it", 0.20), ("hi", 0.25)]


def test_a_configured_language_is_never_detected():
    policy = language_policy("de", [], multilingual=True, model_name="base")
    assert policy.fixed == "de" and policy.candidates(UNSURE) == [LanguageChoice("de", None)]


def test_one_listed_language_means_no_detection():
    policy = language_policy("auto", ["fr"], multilingual=True, model_name="base")
    assert policy.candidates(SURE) == [LanguageChoice("fr", None)]


def test_a_sure_detection_is_taken_as_it_is():
    policy = language_policy("auto", [], multilingual=True, model_name="base")
    assert policy.candidates(SURE) == [LanguageChoice("de", 0.95)]


def test_detection_is_masked_to_the_listed_languages_and_renormalised():
    policy = language_policy("auto", ["fr", "en"], multilingual=True, model_name="base")
    ranked = policy.candidates(SURE)  # de is not listed: en 0.03 against fr 0.02, unsure: both decoded
    assert [c.language for c in ranked] == ["en", "fr"]
    assert [c.probability for c in ranked] == [pytest.approx(0.6), pytest.approx(0.4)]


def test_an_unsure_detection_offers_its_two_likeliest_languages():
    policy = language_policy("auto", ["it", "es", "en"], multilingual=True, model_name="base")
    ranked = policy.candidates(UNSURE)
    assert [c.language for c in ranked] == ["en", "es"]
    assert sum(c.probability or 0 for c in rank_languages(UNSURE, ["it", "es", "en"])) == pytest.approx(1.0)


def test_below_the_floor_the_first_listed_language_is_used():
    scores = [("ja", 0.90), ("de", 0.05), ("en", 0.05)]
    policy = language_policy("auto", ["de", "en"], multilingual=True, model_name="base",
                             options=LanguageOptions(min_probability=0.6))
    assert policy.candidates(scores) == [LanguageChoice("de", 0.5)]


def test_without_a_list_a_weak_detection_still_stands():
    scores = [("hi", 0.12), ("ms", 0.11)] + [(f"x{i}", 0.077) for i in range(10)]
    policy = language_policy("auto", [], multilingual=True, model_name="base")
    assert [c.language for c in policy.candidates(scores)] == ["hi"]


def test_an_english_only_model_decodes_english():
    assert language_policy("auto", [], multilingual=False, model_name="tiny.en").fixed == "en"
    with pytest.raises(ModelError, match=r"English only.*de"):
        language_policy("auto", ["en", "de"], multilingual=False, model_name="tiny.en")


def test_unknown_codes_are_refused_with_the_key_named():
    with pytest.raises(ModelError, match=r"'xx'.*model\.languages"):
        language_policy("auto", ["de", "xx"], multilingual=True, model_name="base")
    with pytest.raises(ModelError, match="'german'"):
        language_policy("german", [], multilingual=True, model_name="base")
