"""The customer display's bus: the till publishes without waiting, each till's displays get its pictures."""

from __future__ import annotations

import threading
import time

from pos_referral.display.bus import DisplayBus, Shown


def test_a_display_gets_its_own_tills_pictures_and_not_another_tills() -> None:
    bus = DisplayBus()
    with bus.subscribe("T1") as t1, bus.subscribe("T2") as t2:  # type: ignore[union-attr]
        bus.publish(Shown("quote", "T1", first_name="Ola", discount_minor=500))
        got = t1.get(timeout=1)
        assert got is not None and got.state == "quote" and got.discount_minor == 500
        assert t2.get(timeout=0.01) is None


def test_a_display_that_connects_later_starts_from_the_tills_current_picture() -> None:
    bus = DisplayBus()
    assert bus.current("T1").state == "idle"
    bus.publish(Shown("code", "T1", code="R123", landing_url="https://shop.example/r/R123"))
    bus.publish(Shown("quote", "T2", discount_minor=100))
    now = bus.current("T1")
    assert (now.state, now.code) == ("code", "R123")
    assert now.seq > 0 and now.at > 0
    assert bus.current("T2").seq > now.seq  # one order over every till


def test_publishing_never_waits_for_a_display_that_stopped_reading() -> None:
    bus = DisplayBus()
    sub = bus.subscribe("T1")
    assert sub is not None
    started = time.perf_counter()
    for i in range(1000):
        bus.publish(Shown("quote", "T1", discount_minor=i))
    assert time.perf_counter() - started < 1.0  # bounded inbox: the oldest are dropped, nothing blocks
    last = None
    while (item := sub.get(timeout=0.01)) is not None:
        last = item
    assert last is not None and last.discount_minor == 999  # the newest picture is never the one dropped
    sub.close()


def test_streams_are_bounded_and_a_tills_new_stream_replaces_its_oldest() -> None:
    bus = DisplayBus(max_streams=2)
    first, other = bus.subscribe("T1"), bus.subscribe("T2")
    assert first is not None and other is not None
    again = bus.subscribe("T1")  # the tablet came back before its old stream was noticed dead
    assert again is not None and first.closed and not other.closed
    assert first.get(timeout=0.01) is None  # the old stream is woken to end
    assert bus.subscribe("T3") is None  # a third till's display would take a thread the tills need
    assert bus.streams == 2
    again.close()
    assert bus.subscribe("T3") is not None


def test_closing_the_bus_ends_every_stream_at_once_and_takes_no_new_ones() -> None:
    bus = DisplayBus()
    sub = bus.subscribe("T1")
    assert sub is not None
    woke = threading.Event()

    def reader() -> None:
        sub.get(timeout=30)
        woke.set()

    thread = threading.Thread(target=reader)
    thread.start()
    bus.close()
    assert woke.wait(2) and sub.closed
    thread.join(2)
    assert bus.subscribe("T1") is None and bus.streams == 0


def test_a_failing_publish_is_logged_not_raised() -> None:
    def broken_clock() -> float:
        raise RuntimeError("clock gone")

    bus = DisplayBus(clock=broken_clock)
    bus.publish(Shown("quote", "T1"))  # the till's answer goes out all the same
    assert bus.current("T1").state == "idle"
