"""The phrases Whisper invents in silence, per language.

Whisper learnt from subtitled videos, so on silence or noise it writes what ends a video in the language it
decodes in: thanks, "subscribe", and the subtitle credits (the Amara.org community, ZDF's "funk" channel,
Radio-Canada, ...). These lists are the ones users of Whisper have collected (openai/whisper discussion
#928 and the hallucination lists of the dictation tools built on it). A phrase is only ever dropped when it
is the WHOLE text of a segment or dictation.

Phrases are written as Whisper writes them and compared after `hallucination._normalize` (lower case,
punctuation and apostrophes gone); Chinese phrases are compared without spaces.
"""

from __future__ import annotations

import re

# English outros turn up whatever the language (English dominates the training data), so every language
# checks these as well as its own.
ENGLISH = (
    "you", "thank you", "thank you very much", "thank you so much", "thanks", "thank you all",
    "thanks for watching", "thank you for watching", "thanks for watching and see you next time",
    "thank you for watching and see you next time", "thanks for listening", "thank you for listening",
    "thank you for your attention", "please subscribe", "please like and subscribe", "like and subscribe",
    "subscribe to my channel", "please subscribe to my channel", "don't forget to like and subscribe",
    "see you next time", "see you in the next video", "see you in the next one", "bye", "bye bye",
    "goodbye", "blank audio", "blank", "silence", "music", "applause", "laughter", "laughs", "noise",
    "inaudible", "no speech", "the end", "foreign", "speaking in foreign language",
)

BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "de": ("Danke.", "Danke schön.", "Dankeschön.", "Vielen Dank.", "Vielen Dank fürs Zuschauen.",
           "Danke fürs Zuschauen.", "Vielen Dank für's Zuschauen!", "Vielen Dank für Ihre Aufmerksamkeit.",
           "Bis zum nächsten Mal.", "Tschüss.", "Musik", "Applaus", "Copyright WDR 2019",
           "Copyright WDR 2020", "Copyright WDR 2021", "SWR 2020", "SWR 2021"),
    "fr": ("Merci.", "Merci beaucoup.", "Merci d'avoir regardé.", "Merci d'avoir regardé cette vidéo !",
           "Merci de votre attention.", "Au revoir.", "À bientôt.", "Abonne-toi !", "Abonnez-vous !",
           "N'oubliez pas de vous abonner.", "Musique", "Applaudissements"),
    "es": ("Gracias.", "Muchas gracias.", "¡Gracias por ver!", "Gracias por ver el video.",
           "Gracias por ver el vídeo.", "Gracias por su atención.", "¡Suscríbete!", "Suscríbete al canal.",
           "Hasta la próxima.", "Adiós.", "Nos vemos en el próximo video.", "Música", "Aplausos"),
    "zh": ("谢谢观看", "谢谢收看", "感谢观看", "謝謝觀看", "感謝觀看", "谢谢大家", "謝謝大家", "音乐", "音樂",
           "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目", "請不吝點贊 訂閱 轉發 打賞支持明鏡與點點欄目",
           "优优独播剧场——YoYo Television Series Exclusive"),
}
BY_LANGUAGE["yue"] = BY_LANGUAGE["zh"]

# Credit lines from subtitle files, dropped whatever name or year follows. Written for normalised text.
CREDITS: dict[str, re.Pattern[str]] = {
    "en": re.compile(r"^(?:subtitles?|subtitled|captions?|captioned|transcript(?:ion)?|transcribed|"
                     r"translated|translation|sync(?:ed)?|corrections?)(?: \w+)? by\b"),
    # "Untertitel im Auftrag des ZDF für funk, 2017", "Untertitelung aufgrund der Amara.org-Community",
    # "Untertitel von Stephanie Geiges": precise, since "Untertitel von Filmen ..." is ordinary German
    "de": re.compile(r"^untertitel(?:ung)? (?:im auftrag des (?:zdf|ard|wdr|swr|ndr)|des zdf|"
                     r"der amara|aufgrund der amara|von stephanie geiges)\b"),
    # "Sous-titres réalisés par la communauté d'Amara.org", "Sous-titrage ST' 501",
    # "Sous-titrage Société Radio-Canada", "Sous-titres fait par ..."
    "fr": re.compile(r"^(?:les autres )?sous titr(?:es|age) (?:réalisés?|faits?|par|st ?501|"
                     r"société radio canada)\b"),
    # "Subtítulos realizados por la comunidad de Amara.org", "Subtitulado por ..."
    "es": re.compile(r"^subt[ií]tul(?:os|ado) (?:realizados|creados|hechos|por|en español)\b"),
    # "字幕由Amara.org社区提供", "小編字幕由Amara.org社區提供", "字幕志愿者 杨栋梁" (compared without spaces)
    "zh": re.compile(r"^(?:小編|小编|中文)?字幕(?:由|志愿者|志願者|提供|制作|製作)"),
}
CREDITS["yue"] = CREDITS["zh"]

# Sites named in credits, in any language: "Amara.org", "www.mooji.org". Not after a letter, so that the
# Chinese "由Amara.org" (no space before it) is found too.
CREDIT_SITES = re.compile(r"(?<![a-z])(?:amara ?org|www [a-z0-9]+ (?:com|org|net))\b")

# Words of parenthesised annotations in other languages: "(Musik)", "(Rires)", "(Aplausos)", "（笑）".
SOUND_WORDS = frozenset({
    "musik", "applaus", "lachen", "gelächter", "stille", "geräusche", "musique", "applaudissements",
    "rires", "rire", "silence", "bruit", "música", "musica", "aplausos", "risas", "silencio", "ruido",
    "音乐", "音樂", "掌声", "掌聲", "笑", "笑声", "笑聲",
})
