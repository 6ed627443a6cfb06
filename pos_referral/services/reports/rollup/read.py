"""Reading the report rollup: sums over the quarter hours of a range, by dimension or by local day.

A part uses the rollup only when ``usable``: SQLite (where the rollup is kept), a range whose
bounds fall on quarter hours (every zone in use today; a historical offset such as Monrovia's
-0:44:30 would not), and a connection not told to read raw rows (``RAW_KEY`` in ``conn.info``,
set by ``build_report(raw=True)``: the tests compare both ways).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.models_reports import ReportRollup, ReportRollupDay
from pos_referral.services.reports.date_range import DateRange, offset_pieces
from pos_referral.services.reports.rollup import days
from pos_referral.services.reports.rollup.buckets import (
    BUCKET_SECONDS,
    RAW_KEY,
    aligned,
    day_number,
    day_of,
    instant,
    supported,
)

_R = table(ReportRollup)
_DAYS = table(ReportRollupDay)


def usable(conn: sa.Connection, rng: DateRange) -> bool:
    if not supported(conn) or rng.store_no is not None or conn.info.get(RAW_KEY):
        return False
    return aligned(rng.start) and aligned(rng.end) and all(aligned(at) for at, _ in offset_pieces(rng))


def _bounds(rng: DateRange) -> sa.ColumnElement[bool]:
    lo, hi = int(rng.start.timestamp()) // BUCKET_SECONDS, int(rng.end.timestamp()) // BUCKET_SECONDS
    return sa.and_(_R.c.bucket >= lo, _R.c.bucket < hi)


def end_bucket(rng: DateRange) -> int:
    return int(rng.end.timestamp()) // BUCKET_SECONDS


def sums(conn: sa.Connection, fact: str, rng: DateRange, *dims: str) -> list[tuple[Any, ...]]:
    """[(dim values..., n, a, b, c)] of ``fact`` over the range, grouped by ``dims`` (columns of the rollup)."""
    if days.usable(conn, rng):  # whole local days of the store's zone
        t, where = _DAYS, days.day_range(rng)
    else:
        t, where = _R, _bounds(rng)
    columns = [t.c[d] for d in dims]
    totals = [sa.func.coalesce(sa.func.sum(t.c[k]), 0) for k in ("n", "a", "b", "c")]
    stmt = sa.select(*columns, *totals).where(t.c.fact == fact, where)
    if columns:
        stmt = stmt.group_by(*columns)
    return [tuple(r) for r in conn.execute(stmt).all()]


def by_first(conn: sa.Connection, fact: str, rng: DateRange) -> dict[bool, tuple[int, int]]:
    """{first event (staff column) before the range ended: (n, a)} of ``converted`` or ``voucher_sales``.

    ``''`` (never) counts as not before. Day rows hold the first event's local day, quarter-hour rows its
    quarter hour.
    """
    by_day = days.usable(conn, rng)
    t, where = (_DAYS, days.day_range(rng)) if by_day else (_R, _bounds(rng))
    limit = day_number(rng.last) if by_day else end_bucket(rng) - 1
    before = sa.and_(t.c.staff != "", sa.cast(t.c.staff, sa.Integer) <= limit)

    def total(column: sa.ColumnElement[int], side: bool) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((before if side else ~before, column), else_=0)), 0)

    row = conn.execute(sa.select(total(t.c.n, True), total(t.c.a, True), total(t.c.n, False), total(t.c.a, False))
                       .where(t.c.fact == fact, where)).one()
    return {True: (int(row[0]), int(row[1])), False: (int(row[2]), int(row[3]))}


def total(conn: sa.Connection, fact: str, rng: DateRange) -> tuple[int, int, int, int]:
    n, a, b, c = sums(conn, fact, rng)[0]
    return int(n), int(a), int(b), int(c)


def per_day(conn: sa.Connection, fact: str, rng: DateRange) -> dict[str, int]:
    """{local day 'YYYY-MM-DD': n} of ``fact`` (the zone's offset chosen per quarter hour)."""
    if days.usable(conn, rng):
        rows = conn.execute(sa.select(_DAYS.c.day, sa.func.sum(_DAYS.c.n)).where(
            _DAYS.c.fact == fact, days.day_range(rng)).group_by(_DAYS.c.day))
        return {day_of(int(d)).isoformat(): int(n) for d, n in rows}
    pieces = offset_pieces(rng)
    seconds = _R.c.bucket * BUCKET_SECONDS
    offset: sa.ColumnElement[int] = sa.literal(pieces[-1][1] * 60)
    if len(pieces) > 1:
        offset = sa.case(*[(_R.c.bucket < int(pieces[i + 1][0].timestamp()) // BUCKET_SECONDS,
                            sa.literal(pieces[i][1] * 60)) for i in range(len(pieces) - 1)], else_=offset)
    day = ((seconds + offset) // 86400).label("day")
    rows = conn.execute(sa.select(day, sa.func.sum(_R.c.n)).where(_R.c.fact == fact, _bounds(rng)).group_by(day))
    return {day_of(int(d)).isoformat(): int(n) for d, n in rows}


def busy_spans(conn: sa.Connection, fact: str, rng: DateRange) -> list[tuple[datetime, datetime]]:
    """[(from, to)] UTC spans of the range's quarter hours where ``fact`` happened, newest first (merged)."""
    buckets = sorted((int(b) for b in conn.execute(sa.select(_R.c.bucket).distinct().where(
        _R.c.fact == fact, _bounds(rng), _R.c.n > 0)).scalars()), reverse=True)
    spans: list[list[int]] = []
    for b in buckets:
        if spans and spans[-1][0] == b + 1:
            spans[-1][0] = b
        else:
            spans.append([b, b + 1])
    return [(instant(lo), instant(hi)) for lo, hi in spans]
