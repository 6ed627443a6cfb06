"""The report recorder's ten-minute re-quote rule stays exact and cheap when a window is busy."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from pos_referral.services.reports_events import REQUOTE_KEEP, EventRecorder, Noted

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _quote(recorder: EventRecorder, n: int, at: datetime) -> bool:
    return recorder._requoted("0ABCDEFGHJKMNP", Noted(at=at, kind="quote", till_id="T1", customer={"email": f"{n}@x"}))


def test_a_requote_within_ten_minutes_counts_once_even_after_many_distinct_quotes() -> None:
    recorder = EventRecorder(cast(Any, None))
    assert not _quote(recorder, 0, T0)
    started = time.perf_counter()
    for n in range(1, 3 * REQUOTE_KEEP):
        assert not _quote(recorder, n, T0 + timedelta(milliseconds=n))
    # one pruning pass per doubling, not one per quote (that was ~1 ms each past REQUOTE_KEEP keys)
    assert time.perf_counter() - started < 5
    assert _quote(recorder, 0, T0 + timedelta(minutes=9))  # still inside the window: not counted again
    assert not _quote(recorder, 1, T0 + timedelta(minutes=11))  # outside: a new friend quote


def test_keys_outside_the_window_are_dropped_when_pruning() -> None:
    recorder = EventRecorder(cast(Any, None))
    for n in range(REQUOTE_KEEP):
        _quote(recorder, n, T0)
    _quote(recorder, -1, T0 + timedelta(minutes=11))  # over the limit: everything older than the window goes
    assert len(recorder._recent_quotes) == 1
    assert recorder._prune_at == REQUOTE_KEEP
