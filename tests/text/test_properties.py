"""Properties of post-processing over generated text: it never raises, a second pass changes nothing,
and without replacements it never makes the text longer."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from onevox.config import PostProcessingConfig
from onevox.text import collapse_repetitions, is_hallucination, join_segments, postprocess, strip_annotations
from onevox.text.languages import is_cjk

VOCAB = ["um", "Um,", "uh", "UH.", "er", "hmm...", "you", "Thank", "you.", "thanks", "for", "watching!",
         "[BLANK_AUDIO]", "(music)", "(see", "page", "4)", "in", "1813,", "no,", "ß", "ŉ", "İ", "don't",
         "well-known", "3.5", ",", ".", "?", "…", "—", "new", "line", "smiley", "face", "♪", "*laughs*",
         "Subtitles", "by", "the", "Amara.org", "community", "¿qué", "tal?", "🙂", "\t", "\n",
         "äh", "Ähm,", "euh", "Ça", "va", "?", "!", "eh", "¿eh?",
         "嗯，", "呃", "我觉得", "谢谢观看", "。", "，", "Vielen", "Dank."]
words = st.lists(st.one_of(st.sampled_from(VOCAB), st.text(max_size=6)), max_size=30)
texts = st.one_of(st.text(max_size=80), words.map(" ".join), words.map(", ".join), words.map("".join))
configs = st.builds(PostProcessingConfig, capitalize=st.booleans(), punctuation=st.booleans(),
                    remove_fillers=st.booleans(), hallucination_filter=st.booleans(),
                    trailing_space=st.booleans())
languages = st.sampled_from(["en", "de", "fr", "es", "zh", "auto", "it"])
REPLACING = PostProcessingConfig(remove_fillers=True,
                                 replacements={"smiley face": "🙂", "new line": "\n", "you": "YOU"})


@settings(max_examples=400, deadline=None)
@given(texts, configs, languages)
def test_second_pass_changes_nothing(text: str, cfg: PostProcessingConfig, language: str) -> None:
    once = postprocess(text, cfg, language)
    assert postprocess(once, cfg, language) == once


@settings(max_examples=400, deadline=None)
@given(texts, configs, languages)
def test_never_grows_without_replacements(text: str, cfg: PostProcessingConfig, language: str) -> None:
    out = postprocess(text, cfg, language)
    assert len(out) <= len(text) + (1 if cfg.trailing_space else 0)
    if cfg.trailing_space and out and language != "zh" and not is_cjk(out[-1]):  # Chinese takes no space
        assert out.endswith(" ") and not out.endswith("  ")


@settings(max_examples=300, deadline=None)
@given(texts)
def test_never_raises_with_replacements(text: str) -> None:
    assert isinstance(postprocess(text, REPLACING), str)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_filter_helpers_never_raise_or_grow(text: str) -> None:
    assert isinstance(is_hallucination(text), bool)
    collapsed = collapse_repetitions(text)
    assert len(collapsed) <= len(text)
    assert collapse_repetitions(collapsed) == collapsed
    assert len(strip_annotations(text)) <= len(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, max_size=6))
def test_join_has_no_double_or_edge_spaces(pieces: list[str]) -> None:
    joined = join_segments([" ".join(p.split()) for p in pieces])
    assert "  " not in joined and joined == joined.strip()
