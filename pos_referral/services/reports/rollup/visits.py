"""Customers seen per local day, kept beside the raw rows: the report's visit figures without the union.

Customers served, participation, repeat visits and "best customers to invite" count distinct
customers and distinct local days, which no sum of quarter hours gives. ``report_visits`` holds one
row per customer and local day of the store's zone (a code issued to them, their referred purchase,
a sale with their voucher, a quote naming them — as ``reports/people.py`` defines a visit), with the
local day of their first referral code and of their first referred purchase, so "held a code by
the end of the range" is ``code_day <= last``.

Kept like the rollup (``quarter_hours.py``): new source rows are found by row id past this table's own
watermarks; their visits are inserted (or ignored when the day is known) and the first-code and
first-referred days of the customers concerned are recomputed from the raw rows. Rows are never
removed because the sources never delete or move a visit. A change of the store's zone rebuilds
the table. The rebuild works through the sources in windows of row ids, one short transaction each.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models import Code, Redemption, ReportEvent
from pos_referral.db.models_reports import ReportVisit, ReportVisitCell, ReportVisitFirst, ReportWatermark
from pos_referral.services.reports.date_range import DateRange, issued_here, local_day
from pos_referral.services.reports.rollup.buckets import RAW_KEY, day_number, set_marks, unindexed, zone_mark
from pos_referral.services.unit_of_work import UnitOfWork

WINDOW = 50_000  # source rows per transaction (a few seconds at most on a big history)
_V = table(ReportVisit)
_CELLS = table(ReportVisitCell)
_FIRSTS = table(ReportVisitFirst)
NEVER = 2**31 - 1
_W = table(ReportWatermark)
_EPOCH = date(1970, 1, 1)
_ROWID = {"codes": sa.literal_column("codes.rowid"), "redemptions": sa.literal_column("redemptions.rowid"),
          "report_events": table(ReportEvent).c.id}
_SEEN = ("voucher_sale", "quote", "voucher_quote")


def _span(conn: sa.Connection, tz: ZoneInfo, window: dict[str, tuple[int, int]] | None = None) -> DateRange:
    """A range covering the times of the source rows (in ``window``: row ids (lo, hi] per source), so the
    local-day expression has the zone's changes in it. Bounded by row ids, each read walks only the window.
    """
    lows, highs = [], []
    for source, column in (("codes", Code.created_at), ("redemptions", Redemption.created_at),
                           ("report_events", ReportEvent.at)):
        stmt = sa.select(sa.func.min(column), sa.func.max(column))
        if window is not None:
            lo, hi = window[source]
            stmt = stmt.where(_ROWID[source] > lo, _ROWID[source] <= hi)
        lo_at, hi_at = conn.execute(stmt).one()
        lows += [lo_at] if lo_at else []
        highs += [hi_at] if hi_at else []
    first = min(lows).astimezone(tz).date() - timedelta(days=1) if lows else date(2000, 1, 1)
    last = max(highs).astimezone(tz).date() + timedelta(days=1) if highs else first
    return DateRange(first, last, tz)


def _day(column: Any, span: DateRange) -> sa.ColumnElement[int]:
    return sa.cast(sa.func.julianday(local_day(column, span, "sqlite")) - 2440587.5, sa.Integer)


def _sources(span: DateRange, window: dict[str, tuple[int, int]]) -> list[Any]:
    """(customer, local day) of the visits in each source's row-id window (lo, hi].

    ``kind + ''`` keeps SQLite on the row-id range rather than the index on kind (all quotes ever).
    """
    def within(source: str) -> sa.ColumnElement[bool]:
        lo, hi = window[source]
        return sa.and_(_ROWID[source] > lo, _ROWID[source] <= hi)

    return [
        sa.select(Code.customer_id, _day(Code.created_at, span)).where(
            within("codes"), Code.kind == "referral", issued_here()),
        sa.select(Redemption.friend_id, _day(Redemption.created_at, span)).where(within("redemptions")),
        sa.select(ReportEvent.customer_id, _day(ReportEvent.at, span)).where(
            within("report_events"), (ReportEvent.kind + "").in_(_SEEN), ReportEvent.customer_id.is_not(None)),
    ]


def _cells(conn: sa.Connection, who: Any) -> Counter[tuple[int, int, int, int, int]]:
    """The cell keys (``ReportVisitCell``) of the visit rows of the customers ``who``, counted."""
    def later(day: int, value: int | None) -> int:
        return NEVER if value is None else 0 if value <= day else value

    rows = conn.execute(sa.select(_V.c.day, _V.c.prev_day, _V.c.prev2_day, _V.c.code_day, _V.c.referred_day)
                        .where(_V.c.customer_id.in_(who)))
    return Counter((d, -1 if p is None else p, -1 if p2 is None else p2, later(d, c), later(d, r))
                   for d, p, p2, c, r in rows)


def _add_cells(conn: sa.Connection, delta: Counter[tuple[int, int, int, int, int]]) -> None:
    firsts = Counter[tuple[int, int, int, int]]()
    for (day, prev, prev2, code, referred), n in delta.items():
        if prev2 == -1:  # the customer's first visit (no previous day) or second (no day before the previous)
            firsts[(day, 1 if prev == -1 else 2, code, referred)] += n
    for tbl, names, changes in ((_CELLS, ("day", "prev_day", "prev2_day", "code_day", "referred_day"), delta),
                                (_FIRSTS, ("day", "kind", "code_day", "referred_day"), firsts)):
        for key, n in changes.items():
            if not n:
                continue
            where = sa.and_(*(tbl.c[name] == value for name, value in zip(names, key, strict=True)))
            if conn.execute(sa.update(tbl).where(where).values(n=tbl.c.n + n)).rowcount == 0:
                conn.execute(sa.insert(tbl), {**dict(zip(names, key, strict=True)), "n": n})
        conn.execute(sa.delete(tbl).where(tbl.c.n == 0))


def _apply(conn: sa.Connection, span: DateRange, window: dict[str, tuple[int, int]]) -> None:
    sources = _sources(span, window)
    who_ids = sa.select(sa.union(*[s.with_only_columns(s.selected_columns[0]) for s in sources]).subquery().c[0])
    ids = [str(i) for i in conn.execute(who_ids).scalars() if i is not None]
    before = Counter[tuple[int, int, int, int, int]]()
    for i in range(0, len(ids), 500):
        before.update(_cells(conn, ids[i:i + 500]))
    for sel in sources:
        conn.execute(sqlite.insert(_V).from_select(["customer_id", "day"], sel).on_conflict_do_nothing())
    who = sa.select(sa.union(*[s.with_only_columns(s.selected_columns[0]) for s in sources]).subquery().c[0])
    # once per customer, not per visit row: an ambassador has hundreds of visit days and thousands of vouchers
    first_code = (sa.select(Code.customer_id.label("cid"), _day(sa.func.min(unindexed(Code.created_at)), span)
                            .label("day")).where(Code.customer_id.in_(who), Code.kind == "referral")
                  .group_by(Code.customer_id).subquery())
    first_referred = (sa.select(Redemption.friend_id.label("cid"), _day(sa.func.min(
        unindexed(Redemption.created_at)), span).label("day")).where(Redemption.friend_id.in_(who))
        .group_by(Redemption.friend_id).subquery())
    conn.execute(sa.update(_V).where(_V.c.customer_id == first_code.c.cid).values(code_day=first_code.c.day))
    conn.execute(sa.update(_V).where(_V.c.customer_id == first_referred.c.cid)
                 .values(referred_day=first_referred.c.day))
    order = {"partition_by": _V.c.customer_id, "order_by": _V.c.day}
    chain = (sa.select(_V.c.customer_id.label("cid"), _V.c.day.label("day"),
                       sa.func.lag(_V.c.day, 1).over(**order).label("prev"),  # type: ignore[arg-type]
                       sa.func.lag(_V.c.day, 2).over(**order).label("prev2"))  # type: ignore[arg-type]
             .where(_V.c.customer_id.in_(who)).subquery())
    conn.execute(sa.update(_V).where(_V.c.customer_id == chain.c.cid, _V.c.day == chain.c.day)
                 .values(prev_day=chain.c.prev, prev2_day=chain.c.prev2))
    after = Counter[tuple[int, int, int, int, int]]()
    for i in range(0, len(ids), 500):
        after.update(_cells(conn, ids[i:i + 500]))
    after.subtract(before)
    _add_cells(conn, after)


def refresh(db: Database, tz: ZoneInfo, tops: dict[str, int]) -> None:
    """Bring ``report_visits`` up to the source rows up to ``tops`` (row ids read by the caller)."""
    with UnitOfWork(db, write=False) as read:
        conn = read.conn
        marks = {str(k): int(v) for k, v in conn.execute(sa.select(_W.c.source, _W.c.value)
                                                         .where(_W.c.source.startswith("v:")))}
        zone = marks.pop("v:zone", None)
        start = {s: marks.get(f"v:{s}", 0) for s in _ROWID}
        if zone == zone_mark(tz) and all(start[s] >= tops[s] for s in _ROWID):
            return  # nothing new: the common case, a few small reads
    if zone != zone_mark(tz):
        start = dict.fromkeys(_ROWID, 0)
        with UnitOfWork(db, write=True) as uow:
            uow.conn.execute(sa.delete(_V))
            uow.conn.execute(sa.delete(_CELLS))
            uow.conn.execute(sa.delete(_FIRSTS))
            uow.conn.execute(sa.delete(_W).where(_W.c.source.startswith("v:")))
            uow.conn.execute(sa.insert(_W), {"source": "v:zone", "value": zone_mark(tz)})
            uow.commit()
    while any(start[s] < tops[s] for s in _ROWID):
        window = {s: (start[s], min(start[s] + WINDOW, tops[s])) for s in _ROWID}
        with UnitOfWork(db, write=True) as uow:
            _apply(uow.conn, _span(uow.conn, tz, window), window)
            set_marks(uow.conn, {f"v:{s}": hi for s, (_, hi) in window.items()})
            uow.commit()
        start = {s: hi for s, (_, hi) in window.items()}


def usable(conn: sa.Connection, rng: DateRange) -> bool:
    """The table serves this range: kept (SQLite), in the range's zone, for no store filter, not told raw."""
    if conn.dialect.name != "sqlite" or rng.store_no is not None or conn.info.get(RAW_KEY):
        return False
    zone = conn.execute(sa.select(_W.c.value).where(_W.c.source == "v:zone")).scalar()
    return zone == zone_mark(rng.tz)


def figures(conn: sa.Connection, rng: DateRange) -> tuple[int, int, int, int, int]:
    """(customers served, of them holding a code, referred; referred and other customers with 2+ visit days).

    A customer is counted at their first visit of the range (none before it in the range) and, for
    the repeat rates, at their second: sums over the range's cells, no grouping by customer. A range
    with no visit before it (all history) needs only the first and second visits ever.
    """
    first, last = day_number(rng.first), day_number(rng.last)
    earliest = conn.execute(sa.select(sa.func.min(_V.c.day))).scalar()
    if earliest is None or earliest >= first:  # nothing before the range: first and second visits ever
        f = _FIRSTS.c
        return _sum_figures(conn, f.day, f.code_day, f.referred_day, f.n, f.kind == 1, f.kind == 2, first, last)
    c = _CELLS.c
    first_in = c.prev_day < first
    second_in = sa.and_(c.prev_day >= first, c.prev2_day < first)
    return _sum_figures(conn, c.day, c.code_day, c.referred_day, c.n, first_in, second_in, first, last)


def _sum_figures(conn: sa.Connection, day: Any, code_day: Any, referred_day: Any, n: Any, first_in: Any,
                 second_in: Any, first: int, last: int) -> tuple[int, int, int, int, int]:
    def count(*conds: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(*conds), n), else_=0)), 0)

    row = conn.execute(sa.select(
        count(first_in), count(first_in, code_day <= last), count(first_in, referred_day <= last),
        count(second_in, referred_day <= last), count(second_in, referred_day > last))
        .where(day >= first, day <= last)).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4])


def uncoded(rng: DateRange) -> sa.Subquery:
    """customer_id, days: customers with visits in the range and no code by its end (partial index)."""
    first, last = day_number(rng.first), day_number(rng.last)
    before_code = sa.or_(_V.c.code_day.is_(None), _V.c.day < _V.c.code_day)  # the partial index's own condition
    return (sa.select(_V.c.customer_id, sa.func.count().label("days"))
            .where(before_code, _V.c.day >= first, _V.c.day <= last,
                   sa.or_(_V.c.code_day.is_(None), _V.c.code_day > last))
            .group_by(_V.c.customer_id).subquery("uncoded"))

