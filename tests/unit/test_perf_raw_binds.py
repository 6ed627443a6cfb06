"""The hot path's own bind conversion of UTC times writes exactly what SQLAlchemy would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from pos_referral.db.base import UTCDateTime
from pos_referral.db.perf_raw import _utc_text

DIALECT = sqlite.dialect()
SQLALCHEMY = UTCDateTime().dialect_impl(DIALECT).bind_processor(DIALECT)

TIMES = [
    datetime(2026, 12, 6, 3, 4, 5, 123456, tzinfo=UTC),
    datetime(2026, 12, 6, 3, 4, 5, tzinfo=UTC),  # no microseconds: still written with six digits
    datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=2))),  # another zone: converted to UTC
    datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
]


@pytest.mark.parametrize("value", TIMES, ids=str)
def test_utc_text_is_what_sqlalchemy_stores(value: datetime) -> None:
    assert SQLALCHEMY is not None
    assert _utc_text(value) == SQLALCHEMY(value)
    assert _utc_text(value) == SQLALCHEMY(value)  # remembered: the same answer again


def test_one_instant_in_two_zones_is_one_text() -> None:
    utc = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    assert _utc_text(utc.astimezone(timezone(timedelta(hours=9)))) == _utc_text(utc) == "2026-12-06 12:00:00.000000"


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        _utc_text(datetime(2026, 12, 6, 12, 0))
