"""Live mode never takes back what is already in the window."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from onevox.config import Config
from onevox.daemon.live import live_rest
from onevox.daemon.options import live_typing


def test_the_rest_follows_what_is_typed() -> None:
    assert live_rest("And so my", "And so my fellow Americans. ") == " fellow Americans. "
    assert live_rest("", "Hello. ") == "Hello. "
    assert live_rest("Hello.", "Hello. ") == " "


def test_rewritten_earlier_words_are_counted_not_retyped() -> None:
    # a replacement changed words already in the window: only the words after them are added
    assert live_rest("I use java script", "I use JavaScript daily. ") == " daily. "
    assert live_rest("One two three", "One, two, three four. ") == " four. "


def test_nothing_new_types_nothing_but_the_trailing_space() -> None:
    assert live_rest("One two three", "One two three") == ""
    assert live_rest("One, two, three", "One two three ") == " "


@given(st.lists(st.sampled_from(["a", "b,", "c.", "dd", "e"]), min_size=1, max_size=12), st.data())
def test_typed_text_plus_the_rest_reads_as_the_whole(words: list[str], data: st.DataObject) -> None:
    text = " ".join(words) + " "
    cut = data.draw(st.integers(0, len(words)))
    done = " ".join(words[:cut])
    assert (done + live_rest(done, text)).split() == text.split()


def test_live_typing_waits_for_the_release_of_a_held_key() -> None:
    live = Config().with_changes("injection", live=True)
    assert not live_typing(live)  # push-to-talk is the default mode
    assert live_typing(live.with_changes("hotkey", mode="toggle"))
    assert live_typing(live.with_changes("hotkey", backend="none"))
    assert not live_typing(Config().with_changes("hotkey", mode="toggle"))


def test_live_typing_with_a_held_key_follows_the_running_backend() -> None:
    """The X11 listener gives the keyboard back while its key is held; the portal's compositor does not."""
    live = Config().with_changes("injection", live=True)
    assert live_typing(live, "x11")
    assert not live_typing(live, "portal")
    assert not live_typing(live, "evdev")
    assert not live_typing(live, "none")  # a held key is configured but no listener runs yet
    assert not live_typing(Config(), "x11")  # live mode off
    assert not live_typing(live.with_changes("injection", method="xdotool"), "x11")
