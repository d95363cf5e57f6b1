"""The vocabulary store: corrections, support counts, states under each `learn` mode, forget/accept, and the
live view the daemon uses (LearnedVocabulary)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from onevox.config import PostProcessingConfig, VocabularyConfig
from onevox.history import History, HistoryEntry
from onevox.vocabulary import LearnedVocabulary, VocabularyError, record_correction
from onevox.vocabulary.store import VocabularyStore, learned, store_path

WRONG = "We deploy to cooper netties every day."
RIGHT = "We deploy to Kubernetes every day."


@pytest.fixture
def store(tmp_path: Path) -> VocabularyStore:
    s = VocabularyStore(tmp_path / "vocabulary.sqlite3")
    yield s
    s.close()


def _states(store: VocabularyStore, cfg: VocabularyConfig) -> dict[tuple[str, str], tuple[str, int]]:
    return {(r.wrong, r.right): (r.state, r.support) for r in store.rules(cfg)}


def test_a_rule_becomes_active_once_seen_min_count_times(store: VocabularyStore) -> None:
    cfg = VocabularyConfig(min_count=2)
    assert store.add_correction(1, WRONG, RIGHT)[0].right == "Kubernetes"
    assert _states(store, cfg) == {("cooper netties", "Kubernetes"): ("proposed", 1)}
    store.add_correction(2, "Cooper netties is down.", "Kubernetes is down.")
    assert _states(store, cfg) == {("cooper netties", "Kubernetes"): ("active", 2)}
    assert learned(store.rules(cfg), cfg).replacements == {"cooper netties": "Kubernetes"}
    assert learned(store.rules(cfg), cfg).words == ("Kubernetes",)


def test_propose_mode_waits_for_accept_and_off_applies_nothing(store: VocabularyStore) -> None:
    for entry in (1, 2, 3):
        store.add_correction(entry, WRONG, RIGHT)
    propose, off = VocabularyConfig(learn="propose"), VocabularyConfig(learn="off")
    [rule] = store.rules(propose)
    assert rule.state == "proposed" and rule.support == 3
    assert learned(store.rules(propose), propose).replacements == {}
    store.decide(rule.id, "accepted")
    assert store.rules(propose)[0].state == "active"
    assert store.rules(off)[0].state == "off" and learned(store.rules(off), off).replacements == {}


def test_a_forgotten_rule_is_not_learned_again_from_old_or_new_corrections(store: VocabularyStore) -> None:
    cfg = VocabularyConfig(min_count=1)
    store.add_correction(1, WRONG, RIGHT)
    [rule] = store.rules(cfg)
    assert store.decide(rule.id, "forgotten") == ("cooper netties", "Kubernetes")
    store.add_correction(1, WRONG, RIGHT)  # the same correction again
    store.add_correction(2, WRONG, RIGHT)  # and a new one
    [again] = store.rules(cfg)
    assert again.id == rule.id and again.state == "forgotten" and again.support == 2
    assert learned(store.rules(cfg), cfg).replacements == {}
    store.decide(rule.id, "accepted")  # accept brings it back
    assert learned(store.rules(cfg), cfg).replacements == {"cooper netties": "Kubernetes"}


def test_correcting_an_entry_again_replaces_what_it_taught(store: VocabularyStore) -> None:
    cfg = VocabularyConfig(min_count=1)
    store.add_correction(1, WRONG, "We deploy to Kubernetes every day.")
    store.add_correction(1, WRONG, "We deploy to Nomad every day.")
    assert _states(store, cfg) == {("cooper netties", "Nomad"): ("active", 1)}
    assert [r.support for r in store.rules(cfg, everything=True)] == [1, 0]
    assert store.correction(1).corrected == "We deploy to Nomad every day."


def test_one_wrong_phrase_has_one_right_side_the_most_supported(store: VocabularyStore) -> None:
    cfg = VocabularyConfig(min_count=1)
    store.add_correction(1, "their house", "there house")
    store.add_correction(2, "their car", "they're car")
    store.add_correction(3, "their bike", "they're bike")
    states = _states(store, cfg)
    assert states[("their", "they're")] == ("active", 2) and states[("their", "there")] == ("proposed", 1)


def test_unknown_rule_and_words_cap(store: VocabularyStore) -> None:
    with pytest.raises(VocabularyError, match="no learned rule 42"):
        store.decide(42, "forgotten")
    store.add_correction(1, "alpha one beta two gamma three", "Alpha One Beta Two Gamma Three")
    cfg = VocabularyConfig(min_count=1, prompt_words=2)
    assert len(learned(store.rules(cfg), cfg).replacements) >= 2  # sentence-start "alpha" is not a rule
    assert len(learned(store.rules(cfg), cfg).words) == 2


def test_the_file_is_private_and_sits_beside_the_history(tmp_path: Path) -> None:
    path = store_path(tmp_path / "sub" / "history.sqlite3")
    assert path == tmp_path / "sub" / "vocabulary.sqlite3"
    VocabularyStore(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_another_connection_writing_is_seen_as_a_change(store: VocabularyStore) -> None:
    assert store.changed() is False
    store.add_correction(1, WRONG, RIGHT)  # our own write: the live view refreshes itself
    assert store.changed() is False
    other = VocabularyStore(store.path)
    other.add_correction(2, WRONG, RIGHT)
    other.close()
    assert store.changed() is True and store.changed() is False


@pytest.fixture
def history(tmp_path: Path) -> History:
    h = History(tmp_path / "history.sqlite3")
    yield h
    h.close()


def test_record_correction_refuses_bad_input_and_saves_nothing(history: History,
                                                               store: VocabularyStore) -> None:
    entry = history.add(HistoryEntry(text=WRONG + " "))
    cfg = VocabularyConfig()
    with pytest.raises(VocabularyError, match=r"^no history entry 99$"):
        record_correction(history, store, 99, RIGHT, cfg)
    with pytest.raises(VocabularyError, match="empty"):
        record_correction(history, store, entry, "  ", cfg)
    with pytest.raises(VocabularyError, match="nothing to learn"):
        record_correction(history, store, entry, "We deploy  to cooper netties every day.", cfg)
    assert store.corrections() == []
    result = record_correction(history, store, entry, RIGHT, cfg)
    assert result.original == WRONG and [r.right for r in result.rules] == ["Kubernetes"]
    assert history.get(entry).text == WRONG + " "  # the history entry itself is left as it was


def test_the_live_view_applies_corrections_and_picks_up_other_writers(history: History,
                                                                       store: VocabularyStore) -> None:
    live = LearnedVocabulary(store, VocabularyConfig(min_count=2))
    ids = [history.add(HistoryEntry(text=WRONG)) for _ in range(3)]
    live.correct(history, ids[0], RIGHT)
    assert live.current.replacements == {}
    live.correct(history, ids[1], RIGHT)
    assert live.current.replacements == {"cooper netties": "Kubernetes"}
    assert live.text_config(PostProcessingConfig()).replacements == {"cooper netties": "Kubernetes"}

    class Engine:  # a recognizer that takes learned words
        model_name = "x"
        words: tuple[str, ...] = ()

        def transcribe(self, audio: object, *, prompt: str = "", language: str | None = None) -> object:
            raise NotImplementedError

        def warm_up(self) -> None:
            pass

        def set_learned_words(self, words: tuple[str, ...]) -> None:
            self.words = tuple(words)

    engine = Engine()
    live.prime(engine)
    assert engine.words == ("Kubernetes",)
    other = VocabularyStore(store.path)  # e.g. `onevox vocabulary forget` while the daemon runs
    other.decide(other.rules(VocabularyConfig())[0].id, "forgotten")
    other.close()
    assert live.current.replacements  # not seen yet ...
    live.prime(engine)  # ... until the next dictation starts
    assert live.current.replacements == {} and engine.words == ()
    live.set_config(VocabularyConfig(min_count=1))
    assert live.current.replacements == {}


def test_a_spelling_corrected_often_enough_primes_the_decoder_whatever_was_heard(
        store: VocabularyStore) -> None:
    store.add_correction(1, "We deploy to cubanites today.", "We deploy to Kubernetes today.")
    store.add_correction(2, "Our team moved to cuba neat last year.",
                         "Our team moved to Kubernetes last year.")
    cfg = VocabularyConfig(min_count=2)
    result = learned(store.rules(cfg), cfg)
    assert result.replacements == {}  # each misheard form seen once
    assert result.words == ("Kubernetes",)  # but the spelling twice
    propose = VocabularyConfig(learn="propose", min_count=2)
    assert learned(store.rules(propose), propose).words == ()


def test_an_id_beyond_sqlite_integers_is_just_unknown(history: History, store: VocabularyStore) -> None:
    for entry_id in (0, -1, 2**70):
        with pytest.raises(VocabularyError, match=f"^no history entry {entry_id}$"):
            record_correction(history, store, entry_id, "text", VocabularyConfig())


def test_a_store_that_cannot_be_read_does_not_fail_the_dictation(store: VocabularyStore, history: History,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    live = LearnedVocabulary(store, VocabularyConfig(min_count=1))
    live.correct(history, history.add(HistoryEntry(text=WRONG)), RIGHT)
    store.close()  # every later read fails
    live.prime(object())  # type: ignore[arg-type]
    assert live.current.replacements == {"cooper netties": "Kubernetes"}
    assert "learned vocabulary not re-read" in caplog.text


def test_processes_opening_a_new_file_at_once_all_work(tmp_path: Path) -> None:
    """SQLite fails the switch to WAL at once, not after the busy timeout, while another connection opens
    the same file: the daemon and a CLI command starting together must both get the store."""
    import threading

    for round_ in range(30):
        path = tmp_path / f"v{round_}.sqlite3"
        stores: list[VocabularyStore] = []
        errors: list[BaseException] = []

        def open_it(path: Path = path, stores: list[VocabularyStore] = stores,
                    errors: list[BaseException] = errors) -> None:
            try:
                stores.append(VocabularyStore(path))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [] and len(stores) == 4
        for store in stores:
            store.close()
