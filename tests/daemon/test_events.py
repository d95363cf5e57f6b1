"""EventBus: fan-out, bounded queues, slow subscribers dropped without blocking the publisher."""

from __future__ import annotations

import threading

import pytest

from onevox.daemon.events import EventBus, SubscriptionClosed


def test_every_subscriber_gets_every_event_in_order() -> None:
    bus = EventBus()
    a, b = bus.subscribe(), bus.subscribe()
    sent = bus.publish("state", state="recording")
    bus.publish("transcribed", text="hi", timings={"inference": 12.5})
    for sub in (a, b):
        first, second = sub.get(0), sub.get(0)
        assert first == sent and first["event"] == "state" and first["state"] == "recording"
        assert second is not None and second["event"] == "transcribed" and second["text"] == "hi"
        assert sub.get(0) is None
    assert isinstance(sent["ts"], float)


def test_get_times_out_with_none() -> None:
    sub = EventBus().subscribe()
    assert sub.get(timeout=0.01) is None


def test_a_slow_subscriber_is_dropped_and_told_so_while_others_carry_on() -> None:
    bus = EventBus(queue_size=4)
    slow, fast = bus.subscribe(), bus.subscribe()
    received = []
    for i in range(10):
        bus.publish("tick", n=i)
        event = fast.get(0)
        assert event is not None
        received.append(event["n"])
    assert received == list(range(10))
    assert slow.dropped and slow.closed
    final = slow.get(0)
    assert final is not None and final["event"] == "dropped" and "behind" in final["reason"]
    with pytest.raises(SubscriptionClosed):
        slow.get(0)
    assert bus.subscriber_count == 1


def test_publish_never_blocks_on_a_subscriber_that_never_reads() -> None:
    bus = EventBus(queue_size=8)
    bus.subscribe()  # never read
    done = threading.Event()

    def flood() -> None:
        for i in range(10_000):
            bus.publish("tick", n=i)
        done.set()

    thread = threading.Thread(target=flood)
    thread.start()
    thread.join(30)
    assert done.is_set() and bus.published == 10_000


def test_close_wakes_a_waiting_reader() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    outcome: list[str] = []

    def reader() -> None:
        try:
            sub.get(timeout=30)
        except SubscriptionClosed:
            outcome.append("closed")

    thread = threading.Thread(target=reader)
    thread.start()
    bus.close()
    thread.join(10)
    assert outcome == ["closed"] and bus.subscriber_count == 0


def test_events_queued_before_close_are_still_delivered() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    bus.publish("a")
    sub.close()
    event = sub.get(0)
    assert event is not None and event["event"] == "a"
    with pytest.raises(SubscriptionClosed):
        sub.get(0)


def test_iterating_a_subscription_ends_when_it_closes() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    for kind in ("ready", "recording_started", "recording_stopped"):
        bus.publish(kind)
    threading.Timer(0.05, sub.close).start()
    assert [e["event"] for e in sub] == ["ready", "recording_started", "recording_stopped"]


def test_many_publishers_and_subscribers_at_once() -> None:
    bus = EventBus(queue_size=100_000)
    subs = [bus.subscribe() for _ in range(4)]
    threads = [threading.Thread(target=lambda t=t: [bus.publish("x", t=t, n=n) for n in range(500)])
               for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for sub in subs:
        events = []
        while (event := sub.get(0)) is not None:
            events.append(event)
        assert len(events) == 2000
        for t in range(4):  # each publisher's events arrive in its order
            assert [e["n"] for e in events if e["t"] == t] == list(range(500))


def test_bad_queue_size_is_rejected() -> None:
    with pytest.raises(ValueError):
        EventBus(queue_size=0)
