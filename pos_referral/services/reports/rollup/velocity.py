"""Velocity flags kept beside the raw rows: the fraud list without a pass over every redemption of the range.

A *velocity* flag (``reports/fraud.py``) is one code used by ``VELOCITY_COUNT`` or more friends within
``VELOCITY_WINDOW``, reported once per burst at its largest. Whether a redemption ends a burst
depends only on the same code's redemptions less than one window before and after it. So:

- ``report_velocity`` holds the flags of the whole history (no range), computed by ``bursts``;
- a range's flags are those rows when they lie at least a window inside the range, plus the flags
  of the range's first and last windows, computed from the raw rows of two windows at each edge
  (what the raw computation sees there: nothing outside the range);
- the catch-up (called by ``quarter_hours.catch_up``) reads the redemptions added since its
  watermark (row ids only grow), and for each stretch of time they cover recomputes the flags of
  the codes concerned from the raw rows a window either side. Redemptions are never deleted, and
  neither their code nor their time ever changes, so nothing else can move a flag.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models import Redemption
from pos_referral.db.models_reports import ReportVelocity, ReportWatermark
from pos_referral.services.reports.date_range import DateRange
from pos_referral.services.reports.rollup.buckets import set_marks
from pos_referral.services.unit_of_work import UnitOfWork

VELOCITY_WINDOW = timedelta(hours=1)
VELOCITY_COUNT = 3
MARK = "vel:redemptions"
_V = table(ReportVelocity)
_W = table(ReportWatermark)
_ROWID: sa.ColumnElement[int] = sa.literal_column("redemptions.rowid")

T = TypeVar("T")
Row = tuple[str, datetime, str]  # code, at, till
Flag = tuple[str, datetime, str, int]  # code, at, till, friends in the burst


def bursts(rows: Sequence[Row]) -> list[Flag]:
    """The flags of ``rows`` sorted by (code, time): each burst of the same code once, at its largest."""
    flags: list[Flag] = []
    start = 0
    for i, (code, at, till) in enumerate(rows):
        while rows[start][0] != code or at - rows[start][1] >= VELOCITY_WINDOW:
            start += 1
        burst = i - start + 1
        next_same = i + 1 < len(rows) and rows[i + 1][0] == code and rows[i + 1][1] - rows[start][1] < VELOCITY_WINDOW
        if burst >= VELOCITY_COUNT and not next_same:
            flags.append((code, at, till, burst))
    return flags


def _rows(conn: sa.Connection, lo: datetime, hi: datetime, codes: set[str] | None = None) -> list[Row]:
    """Redemptions timed in [lo, hi) (of ``codes`` when given), sorted as ``bursts`` wants them."""
    stmt = sa.select(Redemption.code, Redemption.created_at, Redemption.till_id).where(
        Redemption.created_at >= lo, Redemption.created_at < hi)
    found = conn.execute(stmt).all()
    rows = [(c, at, till) for c, at, till in found if codes is None or c in codes]
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return rows


def in_range(conn: sa.Connection, rng: DateRange, limit: int) -> list[Flag] | None:
    """The range's flags (the last ``limit`` in code order, as the raw list), or None: read it raw."""
    s, e, w = rng.start, rng.end, VELOCITY_WINDOW
    if e - s < 4 * w or conn.execute(sa.select(_W.c.value).where(_W.c.source == MARK)).scalar() is None:
        return None
    middle = [(c, at, till, int(n)) for c, at, till, n in conn.execute(
        sa.select(_V.c.code, _V.c.at, _V.c.till_id, _V.c.friends).where(_V.c.at >= s + w, _V.c.at < e - w)
        .with_hint(_V, "INDEXED BY ix_report_velocity_code", "sqlite")
        .order_by(_V.c.code.desc(), _V.c.at.desc()).limit(limit))]
    head = [f for f in bursts(_rows(conn, s, s + 2 * w)) if f[1] < s + w]
    tail = [f for f in bursts(_rows(conn, e - 2 * w, e)) if f[1] >= e - w]
    flags = sorted(middle + head + tail, key=lambda f: (f[0], f[1]))
    return flags[-limit:]


def _clusters(times: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Sorted times as [first, last] stretches (gaps under four windows bridged)."""
    out: list[list[datetime]] = []
    for at in sorted(times):
        if out and at - out[-1][1] < 4 * VELOCITY_WINDOW:
            out[-1][1] = at
        else:
            out.append([at, at])
    return [(a, b) for a, b in out]


def refresh(db: Database, top: int) -> None:
    """Bring ``report_velocity`` up to the redemptions with row ids up to ``top``.

    Flags are computed on a read snapshot and written in short transactions: a redemption added
    meanwhile has a row id past ``top``, so its stretch is recomputed by the next catch-up.
    """
    w = VELOCITY_WINDOW
    with UnitOfWork(db, write=False) as read:
        conn = read.conn
        mark = conn.execute(sa.select(_W.c.value).where(_W.c.source == MARK)).scalar()
        if mark is not None and int(mark) >= top:
            return
        rowid = _ROWID
        new = conn.execute(sa.select(Redemption.code, Redemption.created_at).where(
            rowid > int(mark or 0), rowid <= top)).all()
        work: list[tuple[datetime, datetime, set[str] | None, list[Flag]]] = []
        if mark is None and new:  # first run: every flag of the history
            lo, hi = min(r[1] for r in new), max(r[1] for r in new)
            work.append((lo, hi, None, bursts(_rows(conn, lo, hi + timedelta(microseconds=1)))))
        elif new:
            for lo, hi in _clusters(r[1] for r in new):
                touched = {c for c, at in new if lo <= at <= hi}
                lo, hi = lo - w, hi + w  # the flags a new redemption can change
                rows = _rows(conn, lo - w, hi + w + timedelta(microseconds=1), touched)
                work.append((lo, hi, touched, [f for f in bursts(rows) if lo <= f[1] <= hi]))
    for lo, hi, codes, flags in work:  # one transaction each: a few thousand rows at most
        with UnitOfWork(db, write=True) as uow:
            conn = uow.conn
            where = sa.and_(_V.c.at >= lo, _V.c.at <= hi)
            if codes is None:
                conn.execute(sa.delete(_V).where(where))
            for some in _chunks(sorted(codes or ())):
                conn.execute(sa.delete(_V).where(where, _V.c.code.in_(some)))
            if flags:
                conn.execute(sa.insert(_V), [dict(code=c, at=at, till_id=till, friends=n) for c, at, till, n in flags])
            uow.commit()
    with UnitOfWork(db, write=True) as uow:
        set_marks(uow.conn, {MARK: top})
        uow.commit()


def _chunks(items: list[T], size: int = 500) -> list[list[T]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
