from onevox.audio.watchdog import Backoff, StallWatch


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(first_s=0.25, cap_s=1.5)
    assert [backoff.next_delay() for _ in range(5)] == [0.25, 0.5, 1.0, 1.5, 1.5]
    backoff.reset()
    assert backoff.next_delay() == 0.25


def test_a_stream_that_keeps_delivering_is_healthy() -> None:
    watch = StallWatch(stall_s=1.0, first_audio_s=3.0)
    watch.restart(now=0.0)
    for step in range(1, 50):
        assert watch.check(written=step * 160, now=step * 0.5) is None
    assert watch.delivered


def test_a_stream_that_stops_delivering_is_lost_after_stall_s() -> None:
    watch = StallWatch(stall_s=1.0, first_audio_s=3.0)
    watch.restart(now=0.0)
    assert watch.check(written=480, now=0.1) is None
    assert watch.check(written=480, now=1.0) is None
    reason = watch.check(written=480, now=1.2)
    assert reason is not None and "no audio" in reason


def test_a_new_stream_gets_longer_to_deliver_its_first_block() -> None:
    watch = StallWatch(stall_s=1.0, first_audio_s=3.0)
    watch.restart(now=10.0)
    assert watch.check(written=0, now=12.5) is None
    assert not watch.delivered
    reason = watch.check(written=0, now=13.2)
    assert reason is not None and "since the stream was opened" in reason


def test_restart_forgets_the_previous_stream() -> None:
    watch = StallWatch(stall_s=1.0, first_audio_s=3.0)
    watch.restart(now=0.0)
    watch.check(written=1000, now=0.5)
    watch.restart(now=5.0)
    assert not watch.delivered
    assert watch.check(written=0, now=7.0) is None  # the new stream's own grace period
    assert watch.check(written=160, now=7.1) is None
    assert watch.delivered
