"""Report date ranges: whole local days in the store's time zone, queried as UTC bounds.

A range ``2026-06-01 .. 2026-06-30`` means from local midnight of June 1 up to (not including)
local midnight of July 1, so a sale at 23:30 local on June 30 is in it and one at 00:30 on July 1
is not, whatever the UTC offset and across daylight-saving changes.

Grouping by local day happens in SQL: the UTC offset is piecewise constant, so the local date of a
UTC timestamp is ``date(ts + offset)`` with the offset chosen by a CASE over the (few) instants in
the range where the zone's offset changes.
"""

from __future__ import annotations

import functools
import time as time_module
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.sql.elements import SQLCoreOperations

from pos_referral.db.models import Code
from pos_referral.domain.chain_ids import PLACEHOLDER_PREFIX

DEFAULT_DAYS = 30
BREATHE_ROWS = 64  # a long report or export lets other threads run every this many rows (~1 ms of work)
MAX_DAYS = 3 * 366


class RangeError(ValueError):
    """A range a manager asked for that makes no sense (the message says why)."""


@dataclass(frozen=True)
class DateRange:
    first: date  # first local day, included
    last: date  # last local day, included
    tz: ZoneInfo
    store_no: int | None = None  # central: one store of the chain (None: all stores, or this store)

    @property
    def start(self) -> datetime:
        """UTC instant of local midnight starting ``first``."""
        return local_midnight(self.first, self.tz)

    @property
    def end(self) -> datetime:
        """UTC instant of local midnight after ``last`` (exclusive bound)."""
        return local_midnight(self.last + timedelta(days=1), self.tz)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def label(self) -> str:
        return f"{self.first.isoformat()} – {self.last.isoformat()}"

    def month(self) -> DateRange:
        """The local calendar month containing ``last`` (goals are per month)."""
        first = self.last.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        return DateRange(first, nxt - timedelta(days=1), self.tz, self.store_no)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def parse_range(first: str | None, last: str | None, tz: ZoneInfo, now: datetime,
                store_no: int | None = None) -> DateRange:
    """Read ``YYYY-MM-DD`` bounds (either may be empty); default: the last 30 local days up to today."""
    today = now.astimezone(tz).date()
    try:
        last_day = date.fromisoformat(last) if last else today
        first_day = date.fromisoformat(first) if first else last_day - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise RangeError("dates are written YYYY-MM-DD, e.g. 2026-06-30") from None
    if first_day > last_day:
        raise RangeError("the first day is after the last day")
    if (last_day - first_day).days >= MAX_DAYS:
        raise RangeError(f"a report covers at most {MAX_DAYS} days")
    return DateRange(first_day, last_day, tz, store_no)


def _offset_minutes(instant: datetime, tz: ZoneInfo) -> int:
    offset = instant.astimezone(tz).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def offset_pieces(rng: DateRange) -> list[tuple[datetime, int]]:
    """[(from UTC instant, offset minutes)] covering the range, one piece per offset in force.

    Cached: a report asks for the same range's pieces a few dozen times, and three years take ~5 ms.
    """
    return list(_offset_pieces(rng))


@functools.lru_cache(maxsize=64)
def _offset_pieces(rng: DateRange) -> tuple[tuple[datetime, int], ...]:
    return tuple(_walk_offsets(rng))


def _walk_offsets(rng: DateRange) -> list[tuple[datetime, int]]:
    pieces = [(rng.start, _offset_minutes(rng.start, rng.tz))]
    step = min(rng.start + timedelta(days=1), rng.end)
    while True:  # no zone changes its offset twice in a day: step by days, bisect each change to the minute
        current = _offset_minutes(step, rng.tz)
        if current != pieces[-1][1]:
            lo = step - timedelta(days=1)
            while step - lo > timedelta(minutes=1):
                mid = lo + (step - lo) / 2
                if _offset_minutes(mid, rng.tz) == current:
                    step = mid
                else:
                    lo = mid
            pieces.append((step.replace(second=0, microsecond=0), current))
        if step >= rng.end:
            return pieces
        step = min(step + timedelta(days=1), rng.end)


def _shifted_date(column: SQLCoreOperations[datetime], minutes: int, dialect: str) -> sa.ColumnElement[str]:
    if dialect == "sqlite":
        return sa.func.date(column, f"{minutes:+d} minutes")
    return sa.cast(sa.func.date(column + sa.literal_column(f"interval '{minutes} minutes'")), sa.String)


def local_day(column: SQLCoreOperations[datetime], rng: DateRange, dialect: str) -> sa.ColumnElement[str]:
    """A SQL expression for the local date (``YYYY-MM-DD``) of a UTC timestamp column within ``rng``."""
    pieces = offset_pieces(rng)
    if len(pieces) == 1:
        return _shifted_date(column, pieces[0][1], dialect)
    whens = [(column < pieces[i + 1][0], _shifted_date(column, pieces[i][1], dialect))
             for i in range(len(pieces) - 1)]
    return sa.case(*whens, else_=_shifted_date(column, pieces[-1][1], dialect))


def in_range(column: SQLCoreOperations[datetime] | SQLCoreOperations[datetime | None],
             rng: DateRange) -> sa.ColumnElement[bool]:
    return sa.and_(column >= rng.start, column < rng.end)


def at_store(column: SQLCoreOperations[int] | SQLCoreOperations[int | None], rng: DateRange) -> sa.ColumnElement[bool]:
    """Rows of the range's store (every row when the report covers the whole chain or a single shop)."""
    return sa.true() if rng.store_no is None else column == rng.store_no


def storeless(rng: DateRange) -> sa.ColumnElement[bool]:
    """Rows that belong to no store (report events, the audit log): kept only when no store is chosen.

    Stores do not sync them, so central's copy holds only what central itself recorded.
    """
    return sa.true() if rng.store_no is None else sa.false()


def sold_at_store(sale_column: SQLCoreOperations[str | None], rng: DateRange) -> sa.ColumnElement[bool]:
    """Vouchers used at the range's store: central keys sales as ``<store_no>:<sale id>`` (domain/chain_ids.py)."""
    return sa.true() if rng.store_no is None else sale_column.startswith(f"{rng.store_no}:", autoescape=True)


def issued_here() -> sa.ColumnElement[bool]:
    """Referral codes issued to a customer (not the placeholder row a store keeps for another store's code).

    A store that accepts a code minted elsewhere before syncing records it under a placeholder owner
    (``domain/chain_ids.py``); that code was not issued here and its "owner" was never served here.
    """
    return sa.not_(Code.customer_id.startswith(PLACEHOLDER_PREFIX, autoescape=True))


def breathe(i: int) -> None:
    """Every ``BREATHE_ROWS`` rows, drop the GIL for a moment (``time.sleep(0)``).

    A CSV export of a whole history is seconds of Python; without this it holds the GIL for whole
    switch intervals (5 ms) at a time, and the till's quotes in the same process wait behind it.
    """
    if i % BREATHE_ROWS == 0:
        time_module.sleep(0)
