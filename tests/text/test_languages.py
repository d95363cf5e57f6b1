"""Post-processing per language: fillers, silence phrases, capitals, spaces and punctuation for en, de, fr,
es and zh, and what a user's own list does in each."""

from __future__ import annotations

import pytest

from onevox.config import PostProcessingConfig, parse_config
from onevox.text.hallucination import is_hallucination
from onevox.text.languages import GENERIC, base_language, rules_for
from onevox.text.postprocess import join_segments, postprocess

FILLERS = PostProcessingConfig(remove_fillers=True, trailing_space=False)
PLAIN = PostProcessingConfig(trailing_space=False)


@pytest.mark.parametrize(("language", "text", "expected"), [
    ("de", "Äh, ich glaube, ähm, das ist gut.", "Ich glaube das ist gut."),
    ("de", "Er kommt um acht, öhm, vielleicht.", "Er kommt um acht vielleicht."),  # "er", "um": words
    ("fr", "Euh, je pense, heu, que oui.", "Je pense que oui."),
    ("es", "Eh, creo que, em, sí.", "Creo que sí."),
    ("es", "Este libro es bueno.", "Este libro es bueno."),  # "este" is a word, not only a filler
    ("en", "Um, er, hello.", "Hello."),
    ("zh", "嗯，我觉得，呃，这个很好。", "我觉得，这个很好。"),
    ("zh", "我觉得额度不够。", "我觉得额度不够。"),  # 额 inside a word is not a filler
])
def test_each_language_removes_its_own_fillers(language: str, text: str, expected: str) -> None:
    assert postprocess(text, FILLERS, language) == expected


def test_a_users_filler_list_is_used_in_every_language() -> None:
    cfg = PostProcessingConfig(remove_fillers=True, fillers=["also"], trailing_space=False)
    assert postprocess("Also, äh, gut.", cfg, "de") == "Äh, gut."
    assert postprocess("Also, um, fine.", cfg, "en") == "Um, fine."


def test_the_old_default_list_written_by_config_init_means_the_built_in_one() -> None:
    old = parse_config('[post_processing]\nremove_fillers = true\ntrailing_space = false\n'
                       'fillers = ["um", "uh", "erm", "er", "ah", "hmm", "mm"]\n').post_processing
    assert postprocess("Äh, er kommt.", old, "de") == "Er kommt."  # German "er" stays
    assert postprocess("Um, er, yes.", old, "en") == "Yes."


@pytest.mark.parametrize(("language", "text"), [
    ("de", "Untertitel im Auftrag des ZDF für funk, 2017"), ("de", "Untertitel im Auftrag des ZDF, 2021"),
    ("de", "Untertitelung aufgrund der Amara.org-Community"), ("de", "Untertitel von Stephanie Geiges"),
    ("de", "Vielen Dank fürs Zuschauen!"), ("de", "Vielen Dank."), ("de", "Copyright WDR 2021"),
    ("fr", "Sous-titres réalisés para la communauté d'Amara.org"), ("fr", "Sous-titrage ST' 501"),
    ("fr", "Sous-titrage Société Radio-Canada"), ("fr", "Merci d'avoir regardé cette vidéo !"),
    ("fr", "Merci."),
    ("es", "Subtítulos realizados por la comunidad de Amara.org"), ("es", "¡Gracias por ver!"),
    ("es", "Subtitulado por la comunidad de Amara.org"), ("es", "Gracias. Gracias."),
    ("zh", "字幕由Amara.org社区提供"), ("zh", "谢谢观看"), ("zh", "謝謝觀看。"), ("zh", "字幕志愿者 杨栋梁"),
    ("zh", "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目"), ("zh", "请不吝点赞订阅转发打赏支持明镜与点点栏目"),
    ("de", "Thank you."),  # English outros turn up whatever the language
])
def test_whisper_silence_phrases_per_language(language: str, text: str) -> None:
    assert is_hallucination(text, language)
    assert is_hallucination(text, "auto")  # before detection every language's phrases count
    assert postprocess(text, PLAIN, language) == ""


@pytest.mark.parametrize(("language", "text"), [
    ("de", "Vielen Dank für die schnelle Antwort."), ("de", "Untertitel von Filmen helfen mir."),
    ("fr", "Merci pour le rapport."), ("fr", "Les sous-titres du film sont faux."),
    ("es", "Gracias por la ayuda."), ("es", "Los subtítulos están mal."),
    ("zh", "谢谢你的帮助。"), ("zh", "字幕太小了。"),
])
def test_real_speech_in_each_language_stays(language: str, text: str) -> None:
    assert not is_hallucination(text, language)
    assert postprocess(text, PLAIN, language) == text


@pytest.mark.parametrize(("language", "text"), [("de", "(Musik)"), ("fr", "(Rires)"), ("es", "(Aplausos)"),
                                                ("zh", "（笑）")])
def test_sound_annotations_per_language(language: str, text: str) -> None:
    assert postprocess(text, PLAIN, language) == ""
    assert postprocess(f"{text} Ja", PLAIN, language) == "Ja"


def test_a_phrase_is_dropped_in_its_own_language_only() -> None:
    assert not is_hallucination("Gracias.", "de")  # a German dictation of one Spanish word is kept
    assert is_hallucination("Gracias.", "es")


def test_french_keeps_the_space_before_high_punctuation_and_adds_none() -> None:
    assert postprocess("Ça va ? Oui , très bien !", PLAIN, "fr") == "Ça va ? Oui, très bien !"
    assert postprocess("Ça va? Oui!", PLAIN, "fr") == "Ça va? Oui!"
    assert postprocess("Ça va ? Oui !", PLAIN, "en") == "Ça va? Oui!"


def test_chinese_gets_no_capital_no_spaces_and_keeps_full_width_punctuation() -> None:
    cfg = PostProcessingConfig()  # trailing_space on
    assert postprocess("iPhone 很好用 。 谢谢你", cfg, "zh") == "iPhone 很好用。谢谢你"
    assert postprocess("我们明天见，好吗？", cfg, "zh") == "我们明天见，好吗？"
    assert join_segments(["我们明天见。", "好吗？"]) == "我们明天见。好吗？"
    assert join_segments(["Hello.", "world"]) == "Hello. world"


def test_german_and_spanish_capitals() -> None:
    assert postprocess("übermorgen geht es los", PLAIN, "de") == "Übermorgen geht es los"
    assert postprocess("¿qué hora es?", PLAIN, "es") == "¿Qué hora es?"
    assert postprocess("straße", PLAIN, "de") == "Straße"


def test_replacements_work_in_every_language() -> None:
    cfg = PostProcessingConfig(replacements={"neue Zeile": "\n", "笑脸": "🙂"}, trailing_space=False)
    assert postprocess("Hallo neue Zeile Welt", cfg, "de") == "Hallo\nWelt"
    assert postprocess("你好笑脸", cfg, "zh") == "你好🙂"


@pytest.mark.parametrize(("code", "base"), [("de-AT", "de"), ("ZH_cn", "zh"), ("auto", ""), ("en", "en")])
def test_language_codes(code: str, base: str) -> None:
    assert base_language(code) == base


def test_languages_without_rules_get_the_generic_ones() -> None:
    assert rules_for("auto") is GENERIC
    assert rules_for("it") is GENERIC
    assert rules_for("de-CH").code == "de"
    assert postprocess("Um, ciao.", FILLERS, "it") == "Ciao."
