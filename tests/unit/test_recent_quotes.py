"""The ten-minute re-quote rule (``RecentQuotes``) stays exact and cheap when a window is busy."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from pos_referral.services.report_facts import REQUOTE_KEEP, REQUOTE_WINDOW, RecentQuotes

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
CODE = "0ABCDEFGHJKMNP"


def counted(recent: RecentQuotes, friend: int, at: datetime, till: str = "T1") -> bool:
    return recent.first_in_window(CODE, till, f"friend{friend}@example.com", at)


def test_a_rescan_is_counted_again_only_once_the_window_has_passed() -> None:
    recent = RecentQuotes()
    assert counted(recent, 1, T0)
    assert not counted(recent, 1, T0 + REQUOTE_WINDOW - timedelta(microseconds=1))
    assert counted(recent, 1, T0 + 2 * REQUOTE_WINDOW)


def test_another_till_another_friend_or_another_code_is_another_quote() -> None:
    recent = RecentQuotes()
    assert counted(recent, 1, T0)
    assert counted(recent, 1, T0, till="T2")
    assert counted(recent, 2, T0)
    assert recent.first_in_window("0ZZZZZZZZZZZZZ", "T1", "friend1@example.com", T0)


def test_quotes_of_an_unreadable_code_are_each_counted() -> None:
    recent = RecentQuotes()
    assert recent.first_in_window("", "T1", "friend1@example.com", T0)
    assert recent.first_in_window("", "T1", "friend1@example.com", T0)


def test_a_requote_within_ten_minutes_counts_once_even_after_many_distinct_quotes() -> None:
    recent = RecentQuotes()
    assert counted(recent, 0, T0)
    deadline = time.perf_counter() + 5
    for n in range(1, 3 * REQUOTE_KEEP):  # all inside one window: pruning may drop none of them
        assert counted(recent, n, T0 + timedelta(milliseconds=n))
        # one pruning pass per doubling, not one per quote (that was ~1 ms each past REQUOTE_KEEP keys)
        assert n % 1000 or time.perf_counter() < deadline, f"{n} quotes took more than 5 s"
    assert len(recent) == 3 * REQUOTE_KEEP
    assert not counted(recent, 0, T0 + timedelta(minutes=9))  # still inside the window: not counted again
    assert counted(recent, 1, T0 + timedelta(minutes=11))  # outside: a new quote


def test_keys_outside_the_window_are_dropped_when_pruning() -> None:
    recent = RecentQuotes()
    for n in range(REQUOTE_KEEP - 10):
        counted(recent, n, T0)
    for n in range(REQUOTE_KEEP - 10, REQUOTE_KEEP):
        counted(recent, n, T0 + timedelta(minutes=5))
    assert len(recent) == REQUOTE_KEEP  # at the limit: nothing pruned yet
    # the first quote over the limit prunes: what is older than the window goes, the rest stays exact
    assert counted(recent, -1, T0 + timedelta(minutes=11))
    assert len(recent) == 11
    assert not counted(recent, REQUOTE_KEEP - 10, T0 + timedelta(minutes=12))  # 7 minutes after its scan
    assert counted(recent, 0, T0 + timedelta(minutes=12))  # forgotten, and rightly: 12 minutes ago
