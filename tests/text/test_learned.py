"""Deriving word-level substitutions from a corrected dictation (text/learned.py)."""

from __future__ import annotations

import pytest

from onevox.config import PostProcessingConfig
from onevox.text.learned import Rule, derive_rules, normalise_phrase, with_learned
from onevox.text.postprocess import postprocess


def test_the_kubernetes_example_gives_one_phrase_rule() -> None:
    assert derive_rules("We deploy to cooper netties every day.", "We deploy to Kubernetes every day.") == [
        Rule("cooper netties", "Kubernetes")]


def test_a_misheard_first_word_keeps_the_users_spelling() -> None:
    assert derive_rules("Cubanites runs the cluster.", "Kubernetes runs the cluster.") == [
        Rule("cubanites", "Kubernetes")]


def test_punctuation_around_the_span_is_not_part_of_the_rule_but_inside_it_is() -> None:
    assert derive_rules("Send it to node js, now.", "Send it to Node.js, now.") == [
        Rule("node js", "Node.js")]
    assert derive_rules("I write see sharp code.", "I write C# code.") == [Rule("see sharp", "C#")]


def test_several_spans_in_one_correction() -> None:
    rules = derive_rules("Ask jon to push the get hub branch today please.",
                         "Ask John to push the GitHub branch today please.")
    assert rules == [Rule("jon", "John"), Rule("get hub", "GitHub")]


def test_a_case_fix_inside_a_sentence_teaches_the_spelling() -> None:
    assert derive_rules("I pushed it to github today.", "I pushed it to GitHub today.") == [
        Rule("github", "GitHub")]


@pytest.mark.parametrize(("original", "corrected"), [
    ("the cat sat on the mat.", "The cat sat on the mat!"),  # capital at a sentence start, punctuation
    ("It works. the rest waits.", "It works. The rest waits."),  # a capital after a full stop
    ("I like it.", "I really like it."),  # an insertion
    ("I really like it.", "I like it."),  # a deletion
    ("I like it a lot.", "Completely different words are here now."),  # a rewrite of most of the text
    ("one two three four five six seven eight nine ten",
     "one two three alpha beta gamma delta eight nine ten"),  # a span longer than three words
    ("Same text.", "Same text."),
    ("", "Something"),
    ("Something", "   "),
])
def test_corrections_that_teach_no_word_fix(original: str, corrected: str) -> None:
    assert derive_rules(original, corrected) == []


def test_the_same_fix_twice_in_one_correction_counts_once() -> None:
    assert derive_rules("cubanites and cubanites again", "Kubernetes and Kubernetes again") == [
        Rule("cubanites", "Kubernetes")]


def test_normalise_phrase() -> None:
    assert normalise_phrase("  Cooper,  Netties! ") == "cooper netties"


def test_learned_rules_apply_as_whole_word_case_insensitive_replacements() -> None:
    cfg = with_learned(PostProcessingConfig(), {"cooper netties": "Kubernetes", "cubanites": "Kubernetes"})
    assert postprocess("we run Cooper Netties and cubanites.", cfg) == "We run Kubernetes and Kubernetes. "
    assert postprocess("cubanitesque is a word.", cfg) == "Cubanitesque is a word. "  # whole words only
    assert postprocess("Cubanites runs it.", cfg) == "Kubernetes runs it. "


def test_the_users_own_replacement_of_the_same_phrase_wins() -> None:
    own = PostProcessingConfig(replacements={"Cubanites": "K8s"})
    cfg = with_learned(own, {"cubanites": "Kubernetes", "get hub": "GitHub"})
    assert cfg.replacements == {"Cubanites": "K8s", "get hub": "GitHub"}
    assert with_learned(own, {}) is own
