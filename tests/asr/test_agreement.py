"""LocalAgreement-2 (a segment's first words: -3): what is settled, where the next decode starts, and which
restated words are skipped."""

from __future__ import annotations

from onevox.asr.agreement import Agreement, AgreementOptions, normal, shifted
from onevox.asr.base import Word, join_words


def words(text: str, start: float = 0.0, step: float = 0.4) -> list[Word]:
    """Words of `text`, one every `step` seconds from `start` (each with its leading space)."""
    return [Word(" " + w, round(start + i * step, 3), round(start + (i + 1) * step, 3))
            for i, w in enumerate(text.split())]


def la2() -> Agreement:
    """LocalAgreement-2 from the first word on (the mechanics after a segment's first words settle)."""
    return Agreement(AgreementOptions(first_agree=2))


def test_a_segments_first_words_wait_for_a_third_decode_that_agrees() -> None:
    agreement = Agreement()
    # the first two decodes of a short buffer both miss the soft first word...
    assert agreement.update(words("mister john dashwood had", 0.4), 2.0) == []
    assert agreement.update(words("mister john dashwood had then", 0.4), 2.4) == []
    # ...the third hears it: nothing settles on the words only the first two shared
    assert agreement.update(words("and mister john dashwood had then leisure"), 2.8) == []
    assert agreement.update(words("and mister john dashwood had then leisure to"), 3.2) == []
    settled = agreement.update(words("and mister john dashwood had then leisure to consider"), 3.6)
    assert join_words(settled) == "and mister john dashwood had then leisure"
    # once words are settled, two decodes suffice again
    settled = agreement.update(words("and mister john dashwood had then leisure to consider how"), 4.0)
    assert [normal(w.text) for w in settled] == ["to", "consider"]


def test_with_first_agree_2_two_decodes_settle_the_first_words() -> None:
    agreement = la2()
    agreement.update(words("mister john dashwood had"), 1.6)
    assert [normal(w.text) for w in agreement.update(words("mister john dashwood had then"), 2.0)] == [
        "mister", "john", "dashwood", "had"]


def test_a_decodes_last_word_waits_for_one_after_it() -> None:
    agreement = la2()
    agreement.update(words("people to buy"), 1.2)
    assert [normal(w.text) for w in agreement.update(words("people to buy"), 1.2)] == ["people", "to"]
    assert agreement.cut_s == 0.8


def test_two_decodes_settle_only_the_words_they_share() -> None:
    agreement = la2()
    assert agreement.update(words("and so my fellow"), 1.6) == []
    settled = agreement.update(words("and so, my fellow Americans"), 2.4)
    assert [normal(w.text) for w in settled] == ["and", "so", "my", "fellow"]
    assert agreement.text == "and so, my fellow"  # as the newer decode wrote it
    assert agreement.cut_s == settled[-1].end_s
    assert [w.text for w in agreement.pending] == [" Americans"]


def test_settled_words_are_final_and_are_not_restated() -> None:
    agreement = la2()
    agreement.update(words("ask not what"), 1.2)
    agreement.update(words("ask not what your"), 1.6)
    # the next decode of the same buffer writes the settled words again (one of them differently)
    settled = agreement.update(words("Ask not, what your country can"), 2.8)
    assert [normal(w.text) for w in settled] == ["your"]
    settled = agreement.update(words("ask not what your country can do"), 3.2)
    assert [normal(w.text) for w in settled] == ["country", "can"]
    assert normal(agreement.text.replace(" ", "")) == "asknotwhatyourcountrycan"


def test_a_dropped_or_misspelled_settled_word_does_not_shift_the_rest() -> None:
    agreement = la2()
    agreement.update(words("I have the greatest"), 1.6)
    agreement.update(words("I have the greatest admiration"), 2.0)  # settles four words
    # this decode drops "the" and hears "gratest": still aligned, so only the new words are fresh
    merged = [*words("I have"), Word(" gratest", 0.8, 1.6), *words("admiration in the", start=1.6)]
    settled = agreement.update(merged, 2.4)
    assert [normal(w.text) for w in settled] == ["admiration"]
    settled = agreement.update(words("I have the greatest admiration in the world"), 3.2)
    assert [normal(w.text) for w in settled] == ["in", "the"]


def test_the_buffer_restarts_after_a_settled_sentence_once_it_is_long() -> None:
    agreement = Agreement(AgreementOptions(trim_s=2.0, max_s=10.0, first_agree=2))
    first = words("It was late. We went home and", step=0.5)
    agreement.update(first, 3.5)
    agreement.update(first, 3.5)  # settles all but the last word, "and"
    assert agreement.buffer_s == first[2].end_s  # after "late."
    assert agreement.prompt == "It was late."
    # the next decode starts at the buffer: the settled "We went home" are restated and skipped
    settled = agreement.update(words("We went home and slept", start=first[2].end_s, step=0.5), 4.5)
    assert [normal(w.text) for w in settled] == ["and"]  # now followed by a word
    settled = agreement.update(words("We went home and slept well", start=first[2].end_s, step=0.5), 5.0)
    assert [normal(w.text) for w in settled] == ["slept"]


def test_a_buffer_without_a_sentence_end_restarts_at_max_s() -> None:
    agreement = Agreement(AgreementOptions(trim_s=1.0, max_s=2.0, first_agree=2))
    run = words("one two three four five six seven")
    agreement.update(run, 2.8)
    agreement.update(run, 2.8)
    assert agreement.buffer_s == agreement.cut_s == run[-2].end_s
    assert agreement.prompt == agreement.text


def test_finish_settles_everything_and_skips_a_repeated_tail() -> None:
    agreement = la2()
    agreement.update(words("for one whose work"), 1.6)
    agreement.update(words("for one whose work for"), 2.0)
    cut = agreement.cut_s
    # a decode from the cut that repeats the last two settled words, then the rest
    settled = agreement.finish(words("whose work for humanity.", start=cut, step=0.0), 3.0, from_cut=True)
    assert [normal(w.text) for w in settled] == ["for", "humanity"]
    assert agreement.text == "for one whose work for humanity."
    assert agreement.cut_s == agreement.buffer_s == 3.0 and agreement.pending == []


def settled_seven() -> Agreement:
    agreement = la2()
    for _ in range(2):
        agreement.update(words("the room behind this portal served as a"), 3.2)
    assert agreement.text == "the room behind this portal served as"
    return agreement


def past_known(agreement: Agreement, decoded: str, known: int = 4) -> list[str]:
    """A last decode told that the last `known` settled words are known, untimed (as the daemon makes it)."""
    fresh = words(decoded, start=agreement.cut_s, step=0.0)
    return [normal(w.text) for w in agreement.past_known(fresh, known)]


def test_a_decode_told_the_known_words_keeps_all_it_wrote_when_it_restated_none() -> None:
    kept = past_known(settled_seven(), "a mortuary by the monks.")
    assert kept == ["a", "mortuary", "by", "the", "monks"]


def test_words_a_decode_restates_despite_being_told_they_are_known_are_aligned_away() -> None:
    # all four known words, only their end, or all of them with a word written differently
    for decoded in ("this portal served as a mortuary.", "served as a mortuary.",
                    "this portl served as a mortuary.", "this portal, which served as a mortuary."):
        assert past_known(settled_seven(), decoded) == ["a", "mortuary"], decoded
    # the last known word written differently is still that word
    assert past_known(settled_seven(), "this portal served ass a mortuary.") == ["a", "mortuary"]


def test_a_known_word_that_recurs_later_in_the_decode_is_new_speech() -> None:
    # "this" and "as" were said again, not restated: the decode did not begin by restating
    assert past_known(settled_seven(), "a mortuary as this one.") == ["a", "mortuary", "as", "this", "one"]
    assert past_known(settled_seven(), "as a mortuary.") == ["a", "mortuary"]  # "as" restated at the cut
    assert past_known(settled_seven(), "this portal served") == []  # nothing but known words
    # known words matched by chance, out of order or far from the end of the known ones: all new speech
    assert past_known(settled_seven(), "this is the room where as", known=7) == [
        "this", "is", "the", "room", "where", "as"]


def test_a_single_repeated_word_away_from_the_cut_is_kept() -> None:
    agreement = la2()
    agreement.update(words("I said that"), 1.2)
    agreement.update(words("I said that"), 1.2)
    settled = agreement.finish(words("that is fine", start=agreement.cut_s + 1.0), 3.0, from_cut=True)
    assert [normal(w.text) for w in settled] == ["that", "is", "fine"]


def test_words_keep_their_own_spacing_when_joined() -> None:
    parts = [Word(" cold", 0.0, 0.3), Word("-hearted", 0.3, 0.6), Word(",", 0.6, 0.6), Word(" and", 0.6, 0.8)]
    assert join_words(parts) == "cold-hearted, and"
    assert shifted(parts[:1], 2.0) == [Word(" cold", 2.0, 2.3)]


def test_a_decode_that_starts_without_a_space_still_follows_with_one() -> None:
    agreement = la2()
    agreement.update(words("hello there you"), 1.2)
    agreement.update(words("hello there you"), 1.2)
    agreement.finish([Word("friend", agreement.cut_s, agreement.cut_s + 0.3)], 2.0, from_cut=True)
    assert agreement.text == "hello there friend"
    assert agreement.update(words("say"), 2.5) == [] and agreement.update(words("say"), 2.5) == []


def test_a_sentence_end_the_decoder_stopped_at_well_before_the_audio_ends_settles() -> None:
    """Whisper sometimes stops after a sentence with more audio to hear; as the last word of every decode
    it would never settle, and the buffer would grow to the release."""
    agreement = la2()
    agreement.update(words("to reap any pecuniary advantage."), 3.6)  # 1.6 s of audio after it
    settled = agreement.update(words("to reap any pecuniary advantage."), 4.6)
    assert join_words(settled) == "to reap any pecuniary"  # once could be a pause the speaker goes on from
    # the third decode that stops there settles it
    assert join_words(agreement.update(words("to reap any pecuniary advantage."), 5.6)) == "advantage."
    assert agreement.cut_s == 2.0 and not agreement.pending


def test_a_last_word_near_the_end_of_the_audio_waits_even_when_it_ends_a_sentence() -> None:
    agreement = la2()
    agreement.update(words("to reap any pecuniary advantage."), 2.2)
    settled = agreement.update(words("to reap any pecuniary advantage."), 2.4)
    assert join_words(settled) == "to reap any pecuniary"
